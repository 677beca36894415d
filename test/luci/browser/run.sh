#!/usr/bin/env bash
# luci-app-kith in a real browser: LuCI's own JavaScript (../shared/router/www)
# served by the router's uhttpd, with rpcd sessions and ACLs and ubusd, and
# kithd registered on that ubusd as the ubus object "kith". Chromium (Debian's)
# runs the pages through playwright-core (main.ts).
#
#   home 192.0.2.10 ── 192.0.2.20 nbr 198.51.100.1 ── 198.51.100.2 fri
#
# Namespaces of this run, TEST-NET only. nbr forwards nothing, so home reaches
# fri only relayed through nbr: the map shows a direct and a relayed member.
# home's kithd is the node the pages manage (fresh, unconfigured, its UCI file
# in the web stack's root); nbr is a neighbour that founds a network from the
# command line and hands out the invite pasted into the Join page. The web
# stack listens on 127.0.0.1 only; everything goes away on exit (trap).
# KITH_LUCI_SHOTS=DIR keeps the screenshots there (default: a new directory under /tmp).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../netns/lib.sh"
kt_require || exit 1
ROUTER=${KITH_ROUTER:-$KT_ROOT/../shared/router}
CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
[ -x "$ROUTER/bin/luci-rt-ctl" ] || { echo "test-luci: FAIL: no web stack at $ROUTER (../shared/router beside the project, or KITH_ROUTER)"; exit 1; }
[ -n "$CHROMIUM" ] || { echo "test-luci: FAIL: no chromium (make deps-luci)"; exit 1; }
command -v zbarimg >/dev/null || { echo "test-luci: FAIL: no zbarimg (make deps)"; exit 1; }

KT_ID=${KT_ID:-$(( 9000 + $$ % 900 ))}
KT_TMP=$(mktemp -d /tmp/kith-luci.XXXXXX)
export TJS_HOME=$KT_TMP/tjs-home
SHOTS=${KITH_LUCI_SHOTS:-$(mktemp -d /tmp/kith-luci-shots.XXXXXX)}
WEB=$KT_TMP/router
SOCK=$KT_TMP/ubus.sock
luci_cleanup() {
  [ -x "$WEB/bin/luci-rt-ctl" ] && LUCI_RT_RUNDIR=$KT_TMP/run "$WEB/bin/luci-rt-ctl" stop >/dev/null 2>&1
  kt_cleanup
}
trap luci_cleanup EXIT
trap 'exit 130' INT TERM

# The web stack from a copy, with the app installed as luci.mk would and the UCI file of the package.
cp -r "$ROUTER" "$WEB"
rm -rf "$WEB/var/run" "$WEB/tmp"
cp -r "$KT_ROOT/luci-app/htdocs/." "$WEB/www/"
cp -r "$KT_ROOT/luci-app/root/usr/share/rpcd/acl.d/." "$WEB/share/rpcd/acl.d/"
mkdir -p "$WEB/share/luci/menu.d" "$WEB/libexec/rpcd"
cp -r "$KT_ROOT/luci-app/root/usr/share/luci/menu.d/." "$WEB/share/luci/menu.d/"
cp "$KT_ROOT/rootfs/etc/config/kith" "$WEB/etc/config/kith"
# The read-only login "test" reads what a LuCI user with read access would (not the stack's superuser group).
awk '/option username .test./ { t = 1 } t && /list read/ { print "\tlist read '"'"'luci-base'"'"'"; print "\tlist read '"'"'luci-app-kith'"'"'"; print "\tlist read '"'"'unauthenticated'"'"'"; next } { print }' \
  "$ROUTER/etc/config/rpcd" >"$WEB/etc/config/rpcd"
# luci.getFeatures, the one object LuCI's pages ask for that the stack lacks (an rpcd exec plugin).
cat >"$WEB/libexec/rpcd/luci" <<'SH'
#!/bin/sh
case "$1" in
list) echo '{ "getFeatures": {} }' ;;
call) echo '{}' ;;
esac
SH
chmod 755 "$WEB/libexec/rpcd/luci"
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
LUCI_RT_SOCK=$SOCK LUCI_RT_LISTEN=127.0.0.1:$port LUCI_RT_RUNDIR=$KT_TMP/run "$WEB/bin/luci-rt-ctl" start >/dev/null || {
  echo "test-luci: FAIL: the web stack did not start"; cat "$KT_TMP"/run/*.log; exit 1; }

kt_addns home
kt_addns nbr
kt_addns fri
kt_link home eth0 192.0.2.10/24 nbr eth0 192.0.2.20/24
kt_link nbr eth1 198.51.100.1/24 fri eth0 198.51.100.2/24
kt_exec fri ip route add 192.0.2.0/24 via 198.51.100.1
# home: the node of the pages, fresh; its settings are the web stack's /etc/config/kith.
kt_start_node home --config "$WEB/etc/config/kith" --ubus-socket "$SOCK" || exit 1
kt_start_node nbr || exit 1
kith nbr init street --node-name nbr --endpoint 192.0.2.20:51820 >/dev/null || { echo "test-luci: FAIL: nbr init"; exit 1; }
kt_start_node fri || exit 1
kith fri join "$(kith nbr invite --name fri | tail -n1)" >/dev/null || { echo "test-luci: FAIL: fri did not join"; exit 1; }
invite=$(kith nbr invite --name home --admin | tail -n1)
[ -n "$invite" ] || { echo "test-luci: FAIL: no invite from nbr"; exit 1; }

echo "test-luci: screenshots in $SHOTS"
KITH_LUCI_URL=http://127.0.0.1:$port KITH_LUCI_ROOT=$WEB KITH_LUCI_UBUS=$SOCK KITH_LUCI_SHOTS=$SHOTS \
  KITH_LUCI_INVITE=$invite KITH_LUCI_HOME_NS=$(kt_ns home) KITH_LUCI_NBR_NS=$(kt_ns nbr) KITH_LUCI_HOME_STATE=$KT_TMP/home \
  KITH_LUCI_NBR_STATE=$KT_TMP/nbr CHROMIUM=$CHROMIUM \
  timeout 600 npx tsx "$here/main.ts"
rc=$?
[ $rc = 0 ] || KT_KEEP=1
exit $rc
