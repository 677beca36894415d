#!/usr/bin/env bash
# Crypto benchmark: Ed25519 under txiki.js and Node.js, tweetnacl against the
# runtime's native WebCrypto (verify, sign, and re-signing the node's own
# record), and what it costs a node to verify a 100-member mesh. Prints "result <runtime> <mode> <name> <value>" lines (see
# bench/crypto/run.ts for the modes), then the goals:
#   a node joining a 100-member mesh has verified every record within 3 s (txiki.js);
#   steady state costs under 1 % of one core for a 100-member mesh (txiki.js).
# txiki.js is $TJS, else ../shared/router/bin/tjs; without it only Node.js runs.
# Times are wall-clock on this machine, single-threaded work, no other load assumed.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
TJS=${TJS:-$root/../shared/router/bin/tjs}
work=$(mktemp -d /tmp/kith-bench-crypto.XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
cd "$root" || exit 1

node_modules/.bin/tsx bench/crypto/fixture.ts "$work/fixture.json" || { echo "crypto bench: fixture failed"; exit 1; }
node --input-type=module -e "
  import { build } from 'esbuild';
  import { webCrypto } from './build/bundle.mjs';
  await build({ entryPoints: ['bench/crypto/txiki.ts'], bundle: true, format: 'esm', platform: 'neutral', mainFields: ['module', 'main'],
    target: 'es2023', external: ['tjs:*'], outfile: '$work/bench-txiki.js', logLevel: 'warning', plugins: [webCrypto] });
  await build({ entryPoints: ['bench/crypto/node.ts'], bundle: true, format: 'esm', platform: 'node', target: 'node18',
    outfile: '$work/bench-node.mjs', logLevel: 'warning',
    banner: { js: 'import { createRequire as __r } from \"node:module\"; const require = __r(import.meta.url);' } });
" || { echo "crypto bench: bundling failed"; exit 1; }

runtimes=(node)
if [ -x "$TJS" ]; then runtimes+=(txiki); else echo "crypto bench: SKIPPED txiki.js (no tjs at $TJS)"; fi
: >"$work/results"
for rt in "${runtimes[@]}"; do
  for mode in ops resign join-nacl join-native steady; do
    if [ "$rt" = node ]; then
      KITH_BENCH_MODE=$mode KITH_BENCH_FIXTURE="$work/fixture.json" timeout 600 node "$work/bench-node.mjs"
    else
      TJS_HOME="$work/tjs-home" KITH_BENCH_MODE=$mode KITH_BENCH_FIXTURE="$work/fixture.json" timeout 600 "$TJS" run "$work/bench-txiki.js"
    fi | tee -a "$work/results" || echo "crypto bench: $rt $mode failed"
  done
done

val() { awk -v rt="$1" -v m="$2" -v n="$3" '$2 == rt && $3 == m && $4 == n { print $5 }' "$work/results"; }
echo
for rt in "${runtimes[@]}"; do
  echo "$rt: verify tweetnacl $(val "$rt" ops tweetnacl-verify-ms) ms, WebCrypto $(val "$rt" ops webcrypto-verify-ms) ms"
  echo "$rt: sign tweetnacl $(val "$rt" ops tweetnacl-sign-ms) ms, WebCrypto $(val "$rt" ops webcrypto-sign-ms) ms"
  echo "$rt: own record re-signed: tweetnacl $(val "$rt" resign resign-tweetnacl-ms) ms, WebCrypto $(val "$rt" resign resign-native-ms) ms (native sign, native verify, install; $(val "$rt" resign resign-native-tweetnacl-checks) tweetnacl checks)"
  echo "$rt: joining 100 members: tweetnacl only $(val "$rt" join-nacl total-ms) ms, native prefetch $(val "$rt" join-native total-ms) ms ($(val "$rt" join-native tweetnacl-checks) tweetnacl checks left)"
  echo "$rt: steady state: $(val "$rt" steady steady-cpu-percent) % of one core (new record $(val "$rt" steady new-record-ms) ms, duplicate $(val "$rt" steady duplicate-ms) ms, summary $(val "$rt" steady summary-ms) ms, netmap of 100 $(val "$rt" steady netmap-100-ms) ms; a full 100-entry digest, the old protocol: $(val "$rt" steady digest-100-ms) ms)"
done
if [[ " ${runtimes[*]} " == *" txiki "* ]]; then
  join=$(val txiki join-native total-ms); cpu=$(val txiki steady steady-cpu-percent)
  awk -v j="${join:-1e9}" -v c="${cpu:-100}" 'BEGIN {
    printf "goal: join verifies 100 records within 3 s under txiki.js: %s (%.0f ms)\n", (j < 3000 ? "met" : "NOT met"), j
    printf "goal: steady state under 1 %% of a core under txiki.js: %s (%.3f %%)\n", (c < 1 ? "met" : "NOT met"), c }'
fi
