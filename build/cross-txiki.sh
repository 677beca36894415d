#!/bin/sh
# Cross-build the router-trimmed txiki.js from a txiki.js source tree (with its
# submodules checked out) for a router CPU, with Debian's cross toolchains.
#
#   build/cross-txiki.sh SRC ARCH [OUTDIR]
#
#   SRC     a txiki.js source tree (v26.x; `git clone --recursive`)
#   ARCH    aarch64 | mipsel | mips | x86_64
#   OUTDIR  where the build goes (default: build/out/tjs-ARCH)
#
# The trim is the one the OpenWrt recipe (openwrt-feed/lang/txiki.js) uses:
# MinSizeRel, no SQLite, WASM, FFI or mimalloc, strip + LTO + section GC.
# WebCrypto (Ed25519/X25519, which kithd uses) stays. Prints the binary's size.
#
# Needs: cmake, make, gcc-<triple> g++-<triple> (apt-get install
# g++-aarch64-linux-gnu g++-mipsel-linux-gnu g++-mips-linux-gnu). Run the
# result with qemu-user: QEMU_LD_PREFIX=/usr/<triple> qemu-<arch> OUTDIR/tjs
set -eu

usage() { echo "usage: $0 TXIKI_SRC aarch64|mipsel|mips|x86_64 [OUTDIR]" >&2; exit 2; }
[ $# -ge 2 ] || usage
src=$1 arch=$2
here=$(cd "$(dirname "$0")" && pwd)
out=${3:-$here/out/tjs-$arch}

case $arch in
	aarch64) triple=aarch64-linux-gnu; cpu=aarch64 ;;
	mipsel)  triple=mipsel-linux-gnu;  cpu=mipsel ;;
	mips)    triple=mips-linux-gnu;    cpu=mips ;;
	x86_64)  triple=x86_64-linux-gnu;  cpu=x86_64 ;;
	*) echo "cross-txiki: unknown architecture '$arch' (aarch64, mipsel, mips or x86_64)" >&2; exit 2 ;;
esac

[ -f "$src/CMakeLists.txt" ] && [ -f "$src/src/cli.c" ] || {
	echo "cross-txiki: $src is not a txiki.js source tree" >&2; exit 2; }
for d in quickjs libuv mbedtls libwebsockets; do
	[ -f "$src/deps/$d/CMakeLists.txt" ] || {
		echo "cross-txiki: $src/deps/$d is empty: check out the submodules (git submodule update --init)" >&2; exit 2; }
done
command -v "$triple-gcc" >/dev/null || {
	echo "cross-txiki: no $triple-gcc: apt-get install g++-$triple" >&2; exit 2; }
command -v cmake >/dev/null || { echo "cross-txiki: no cmake: apt-get install cmake" >&2; exit 2; }

mkdir -p "$out"
src=$(cd "$src" && pwd)
out=$(cd "$out" && pwd)

# MIPS32 has no 64-bit atomics: QuickJS's Atomics need libatomic, which must
# come after the objects that use it, so it goes on the link line's end.
extra_libs=""
case $arch in mips*) extra_libs="-latomic" ;; esac

cat > "$out/toolchain.cmake" <<EOF
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR $cpu)
set(CMAKE_C_COMPILER $triple-gcc)
set(CMAKE_CXX_COMPILER $triple-g++)
set(CMAKE_AR $triple-gcc-ar)
set(CMAKE_RANLIB $triple-gcc-ranlib)
set(CMAKE_STRIP $triple-strip)
set(CMAKE_FIND_ROOT_PATH /usr/$triple)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_C_STANDARD_LIBRARIES "$extra_libs")
set(CMAKE_CXX_STANDARD_LIBRARIES "$extra_libs")
EOF

# -Wno-unknown-pragmas: tjs builds with -Werror and gcc warns on clang pragmas.
# ada (URL parsing) is C++: link libstdc++ statically so the router needs no
# libstdcpp package for it.
cmake -S "$src" -B "$out/build" \
	-DCMAKE_TOOLCHAIN_FILE="$out/toolchain.cmake" \
	-DCMAKE_BUILD_TYPE=MinSizeRel \
	-DCMAKE_C_FLAGS="-Wno-unknown-pragmas" \
	-DCMAKE_EXE_LINKER_FLAGS="-static-libstdc++ -static-libgcc" \
	-DBUILD_WITH_SQLITE=OFF -DBUILD_WITH_WASM=OFF -DBUILD_WITH_FFI=OFF \
	-DBUILD_WITH_MIMALLOC=OFF -DBUILD_WITH_STRIP=ON -DBUILD_WITH_LTO=ON \
	-DBUILD_WITH_GC_SECTIONS=ON -DDISABLE_WERROR=ON >"$out/cmake.log" 2>&1 || {
	tail -20 "$out/cmake.log" >&2; echo "cross-txiki: cmake failed (log: $out/cmake.log)" >&2; exit 1; }
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
cmake --build "$out/build" --target tjs-cli -j "$jobs" >"$out/build.log" 2>&1 || {
	tail -30 "$out/build.log" >&2; echo "cross-txiki: build failed (log: $out/build.log)" >&2; exit 1; }
cp "$out/build/tjs" "$out/tjs"
size=$(wc -c < "$out/tjs")
xz_size=$(xz -9e -c "$out/tjs" | wc -c)
echo "$arch: $out/tjs $size bytes stripped, $xz_size bytes xz -9e"
echo "run: QEMU_LD_PREFIX=/usr/$triple qemu-$arch $out/tjs"
