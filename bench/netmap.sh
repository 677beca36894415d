#!/usr/bin/env bash
# Netmap benchmark: what one netmap computation costs with 100 and 1000
# members (each linked to up to 16 others), under Node.js and txiki.js, this
# build against an earlier one in the same run. Every node computes one on
# every changed record, so at 1000 members this is what following the mesh
# costs. KITH_BENCH_BEFORE_REF (default 06b1c7b: a linear-scan Dijkstra and
# nothing cached per record) is built in a temporary git worktree;
# KITH_BENCH_BEFORE=none skips it. txiki.js is $TJS, else ../shared/router/bin/tjs.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
TJS=${TJS:-$root/../shared/router/bin/tjs}
work=$(mktemp -d /tmp/kith-bench-netmap.XXXXXX)
before_tree=""
cleanup() {
  if [ -n "$before_tree" ]; then git -C "$root" worktree remove --force "$before_tree" >/dev/null 2>&1; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$root" || exit 1

sizes=(${KITH_BENCH_NETMAP_SIZES:-100 1000})
for n in "${sizes[@]}"; do
  node_modules/.bin/tsx bench/netmap/fixture.ts "$work/fixture-$n.json" "$n" || { echo "netmap bench: fixture failed"; exit 1; }
done

# bundle <tree> <outdir>: the bench (this tree's bench/netmap) against <tree>'s src.
bundle() {
  mkdir -p "$1/bench/netmap" && { [ "$1" = "$root" ] || cp "$root"/bench/netmap/*.ts "$1/bench/netmap/"; }
  node --input-type=module -e "
    import { build } from 'esbuild';
    import { webCrypto } from './build/bundle.mjs';
    const common = { absWorkingDir: '$1', bundle: true, format: 'esm', logLevel: 'warning', nodePaths: ['$root/node_modules'] };
    await build({ ...common, entryPoints: ['bench/netmap/txiki.ts'], platform: 'neutral', mainFields: ['module', 'main'],
      target: 'es2023', external: ['tjs:*'], outfile: '$2/txiki.js', plugins: [webCrypto] });
    await build({ ...common, entryPoints: ['bench/netmap/node.ts'], platform: 'node', target: 'node18', outfile: '$2/node.mjs',
      banner: { js: 'import { createRequire as __r } from \"node:module\"; const require = __r(import.meta.url);' } });
  "
}
builds=(this)
bundle "$root" "$work/this" || { echo "netmap bench: bundling failed"; exit 1; }
if [ "${KITH_BENCH_BEFORE:-}" != none ]; then
  ref=${KITH_BENCH_BEFORE_REF:-06b1c7b}
  before_tree="$work/before-tree"
  if git -C "$root" worktree add --detach "$before_tree" "$ref" >/dev/null 2>&1 && bundle "$before_tree" "$work/before"; then builds=(before this)
  else echo "netmap bench: cannot build $ref; comparing nothing"; fi
fi

runtimes=(node)
if [ -x "$TJS" ]; then runtimes+=(txiki); else echo "netmap bench: SKIPPED txiki.js (no tjs at $TJS)"; fi
: >"$work/results"
for b in "${builds[@]}"; do
  for rt in "${runtimes[@]}"; do
    for n in "${sizes[@]}"; do
      reps=$([ "$rt" = txiki ] && echo 30 || echo 100)
      if [ "$rt" = node ]; then
        KITH_BENCH_REPS=$reps KITH_BENCH_FIXTURE="$work/fixture-$n.json" timeout 600 node "$work/$b/node.mjs"
      else
        TJS_HOME="$work/tjs-home" KITH_BENCH_REPS=$reps KITH_BENCH_FIXTURE="$work/fixture-$n.json" timeout 600 "$TJS" run "$work/$b/txiki.js"
      fi | sed "s/^result /result $b /" | tee -a "$work/results" >/dev/null || echo "netmap bench: $b $rt $n failed"
    done
  done
done

echo
if [ ${#builds[@]} = 2 ]; then printf '%-10s %-8s %11s %11s %12s\n' runtime members 'before ms' 'this ms' before/this
else printf '%-10s %-8s %11s\n' runtime members 'this ms'; fi
for rt in "${runtimes[@]}"; do
  for n in "${sizes[@]}"; do
    this=$(awk -v rt="$rt" -v n="$n" '$2 == "this" && $3 == rt && $4 == n { print $6 }' "$work/results")
    before=$(awk -v rt="$rt" -v n="$n" '$2 == "before" && $3 == rt && $4 == n { print $6 }' "$work/results")
    if [ ${#builds[@]} = 2 ]; then
      awk -v rt="$rt" -v n="$n" -v b="${before:-nan}" -v t="${this:-nan}" 'BEGIN { printf "%-10s %-8s %11s %11s %12s\n", rt, n, b, t, (b + 0 > 0 && t + 0 > 0 ? sprintf("%.1fx", b / t) : "-") }'
    else
      printf '%-10s %-8s %11s\n' "$rt" "$n" "${this:--}"
    fi
  done
done
echo "ms per netmap computation (one member's view, after another member's record changed); before: ${ref:-none}"
