#!/bin/sh
# Runs Kith on a cross-built txiki.js under qemu-user: the QuickJS-ng core
# self-test, then `make demo`'s scenario (three real kithd in network
# namespaces behind NAT: init, invites, joins, punching, overlay DNS and pings)
# with every kithd and kith on the emulated router CPU.
#
#   build/cross-check.sh TJS ARCH      (as root, after `make build`)
#
#   TJS   a txiki.js built by build/cross-txiki.sh for ARCH
#   ARCH  aarch64 | mipsel | mips | x86_64
#
# Needs qemu-user (apt-get install qemu-user) and the cross toolchain's
# libraries (/usr/<triple>, from g++-<triple>). Exit 0 when both pass.
set -eu
[ $# -eq 2 ] || { echo "usage: $0 TJS aarch64|mipsel|mips|x86_64" >&2; exit 2; }
tjs=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
arch=$2
root=$(cd "$(dirname "$0")/.." && pwd)
case $arch in
	aarch64|mipsel|mips|x86_64) triple=$arch-linux-gnu ;;
	*) echo "cross-check: unknown architecture '$arch'" >&2; exit 2 ;;
esac
[ -x "$tjs" ] || { echo "cross-check: $tjs is not an executable" >&2; exit 2; }
command -v "qemu-$arch" >/dev/null || { echo "cross-check: no qemu-$arch: apt-get install qemu-user" >&2; exit 2; }
[ -d "/usr/$triple/lib" ] || { echo "cross-check: no /usr/$triple: apt-get install g++-$triple" >&2; exit 2; }
[ -f "$root/dist/txiki/kithd-boot.js" ] || { echo "cross-check: no dist/txiki bundles: run make build" >&2; exit 2; }

tmp=$(mktemp -d /tmp/kith-cross.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# The tests run txiki.js as "$TJS run FILE": a wrapper puts qemu in between.
cat > "$tmp/tjs" <<EOF
#!/bin/sh
QEMU_LD_PREFIX=/usr/$triple exec qemu-$arch "$tjs" "\$@"
EOF
chmod +x "$tmp/tjs"
export TJS_HOME="$tmp/home"

echo "== $arch: $("$tmp/tjs" --version 2>&1 | head -n1), $(wc -c < "$tjs") bytes"
node "$root/build/qjs-check.mjs" --emit "$tmp/selftest.js"
out=$(timeout 600 "$tmp/tjs" run "$tmp/selftest.js" 2>&1) || { echo "$out"; echo "cross-check: $arch: the core self-test FAILED"; exit 1; }
echo "$out" | tail -n 2
echo "$out" | grep -q '^selftest-random: 0 draws, [1-9][0-9]* checks$' || { echo "cross-check: $arch: the self-test did not pass cleanly"; exit 1; }

echo "== $arch: make demo with kithd and kith on the emulated CPU"
if KT_RUNTIME=txiki TJS="$tmp/tjs" KT_ID=$(( $$ % 9000 + 900 )) bash "$root/test/netns/demo.sh"; then
	echo "cross-check: $arch: self-test and demo passed"
else
	echo "cross-check: $arch: the demo FAILED"; exit 1
fi
