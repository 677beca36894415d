#!/usr/bin/env bash
# Memory benchmark: kithd's resident set under txiki.js and Node.js, holding
# 3 and 100 member records (a founder's state with the records already in its
# record cache, bench/rss/fixture.ts), in a network namespace of its own with
# its WireGuard interface up and one peer per member. RSS is VmRSS from
# /proc/<pid>/status, read every 0.5 s for KITH_BENCH_RSS_SECS (default 20)
# after kithd answers `kith status`: the table shows the last and the largest.
# Then where the memory goes (bench/rss/probe.ts under txiki.js: the core and
# the DNS index alone, step by step, 100 members), and the minified router
# bundle's size. Goals (txiki.js): RSS with 100 members <= 11 MiB;
# dist/txiki/kithd.js <= 150 KiB.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
SECS=${KITH_BENCH_RSS_SECS:-20}
export KT_TMP_PREFIX=/tmp/kith-bench-rss
# shellcheck source=../test/netns/lib.sh
source "$root/test/netns/lib.sh"
trap kt_cleanup EXIT
trap 'exit 130' INT TERM
cd "$root" || exit 1
kt_require || exit 1

runtimes=(node)
if [ -n "${TJS:-}" ]; then runtimes=(${KITH_BENCH_RSS_RUNTIMES:-txiki node}); else echo "rss bench: SKIPPED txiki.js (no tjs: set TJS or put ../shared/router beside the project)"; fi
# txiki.js as a router runs it: the configuration of openwrt-feed/lang/txiki.js
# (no mimalloc, FFI, SQLite or WASM), built for this machine by
# `build/cross-txiki.sh <txiki.js tree> x86_64` (or KITH_BENCH_TJS_ROUTER=path).
TJS_ROUTER=${KITH_BENCH_TJS_ROUTER:-$root/build/out/tjs-x86_64/tjs}
if [ -x "$TJS_ROUTER" ]; then runtimes+=(txiki-router); echo "rss bench: txiki-router is $TJS_ROUTER"
else echo "rss bench: SKIPPED the router build of txiki.js (build it: build/cross-txiki.sh <txiki.js tree> x86_64)"; TJS_ROUTER=""; fi
TJS_FULL=${TJS:-}
KT_TMP=$(mktemp -d "$KT_TMP_PREFIX.XXXXXX")
export TJS_HOME=$KT_TMP/tjs-home
kt_addns solo
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null; }
rows=()
for members in ${KITH_BENCH_RSS_MEMBERS:-3 100}; do
  for rt in "${runtimes[@]}"; do
    n=solo dir="$KT_TMP/solo"
    rm -rf "$dir"; mkdir -p "$dir"
    node_modules/.bin/tsx bench/rss/fixture.ts "$dir" "$members" || { echo "rss bench: fixture failed"; exit 1; }
    KT_RUNTIME=${rt%-router}
    if [ "$rt" = txiki-router ]; then TJS=$TJS_ROUTER; else TJS=$TJS_FULL; fi
    if ! kt_start_node solo; then echo "rss bench: kithd ($rt, $members members) did not start:"; tail -5 "$KT_TMP/solo.log"; exit 1; fi
    pid=$KT_PID_solo
    max=0 last=0
    for _ in $(seq 1 $((SECS * 2))); do
      last=$(rss_kb "$pid"); [ -n "$last" ] || { echo "rss bench: kithd ($rt) exited"; tail -5 "$KT_TMP/solo.log"; exit 1; }
      [ "$last" -gt "$max" ] && max=$last
      sleep 0.5
    done
    # "running, 100/100 members reachable": the members kithd holds.
    known=$(kith solo status 2>&1 | sed -n 's|.* [0-9]*/\([0-9]*\) member.*|\1|p')
    rows+=("$(awk -v rt="$rt" -v m="$members" -v k="$known" -v l="$last" -v x="$max" 'BEGIN { printf "%-12s %8s %6s %10.1f %10.1f", rt, m, k, l / 1024, x / 1024 }')")
    echo "result rss $rt members=$members peers=$known last-kib=$last max-kib=$max"
    kt_stop_node solo
  done
done
# The runtime alone, running a script that only waits: the part of the RSS no
# change to kithd can lower.
bare_kb() {
  local tjs=$TJS_FULL; [ "$1" = txiki-router ] && tjs=$TJS_ROUTER
  case $1 in
    txiki*) printf 'await new Promise((r) => setTimeout(r, 500)); console.log(/VmRSS:\\s+(\\d+)/.exec(new TextDecoder().decode(await tjs.readFile("/proc/self/status")))[1]);\n' >"$KT_TMP/bare.js"
      "$tjs" run "$KT_TMP/bare.js" ;;
    node) node -e 'setTimeout(() => console.log(/VmRSS:\s+(\d+)/.exec(require("fs").readFileSync("/proc/self/status", "utf8"))[1]), 500)' ;;
  esac
}
for rt in "${runtimes[@]}"; do
  kb=$(bare_kb "$rt")
  echo "result rss $rt bare-runtime-kib=$kb"
  rows+=("$(awk -v rt="$rt" -v l="$kb" 'BEGIN { printf "%-12s %8s %6s %10.1f %10s", rt, "none", "-", l / 1024, "(runtime alone)" }')")
done
echo
echo "kithd RSS (MiB), ${SECS} s after start, record cache preloaded"
printf '%-12s %8s %6s %10s %10s\n' runtime members peers last max
printf '%s\n' "${rows[@]}"
TJS=$TJS_FULL
if [ -n "${TJS:-}" ]; then
  node --input-type=module -e "
    import { build } from 'esbuild';
    import { webCrypto } from './build/bundle.mjs';
    await build({ entryPoints: ['bench/rss/probe.ts'], bundle: true, format: 'esm', platform: 'neutral', mainFields: ['module', 'main'],
      target: 'es2023', minify: true, external: ['tjs:*'], outfile: '$KT_TMP/probe.js', logLevel: 'warning', plugins: [webCrypto] });
  " && rm -rf "$KT_TMP/probe" && node_modules/.bin/tsx bench/rss/fixture.ts "$KT_TMP/probe" 100 &&
  "$TJS" run "$KT_TMP/probe.js" "$KT_TMP/probe" >"$KT_TMP/probe.out" || echo "rss bench: probe failed"
  echo
  echo "where it goes (txiki.js, core and DNS index alone, 100 members): VmRSS after each step, KiB"
  awk '$1 == "probe" { printf "  %-28s %8s %+8d\n", $2, $3, (NR > 1 ? $3 - prev : 0); prev = $3 }' "$KT_TMP/probe.out"
fi
size=$(stat -c %s dist/txiki/kithd.js)
for r in "${rows[@]}"; do
  read -r rt members _ last _ <<<"$r"
  case $rt in txiki|txiki-router) [ "$members" = 100 ] && awk -v rt="$rt" -v l="$last" 'BEGIN { printf "goal: %s RSS with 100 members <= 11 MiB: %s (%.1f MiB)\n", rt, (l <= 11 ? "met" : "NOT met"), l }' ;; esac
done
awk -v s="$size" 'BEGIN { printf "goal: dist/txiki/kithd.js <= 150 KiB: %s (%.1f KiB)\n", (s <= 150 * 1024 ? "met" : "NOT met"), s / 1024 }'
