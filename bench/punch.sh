#!/usr/bin/env bash
# Punch benchmark: N fresh trials of two homes behind two cone NATs (a public
# hub relays until the punch succeeds). Each trial builds a new topology,
# founds a network on the hub, joins both homes, and times from the second
# join to a direct path on both sides. Prints the success rate and the median
# and worst time to a direct path; a failed trial prints its diagnostics.
#   KITH_PUNCH_TRIALS (default 20), KITH_PUNCH_TIMEOUT_S (default 30),
#   KT_RUNTIME=node|txiki, KT_ROOT=<a built checkout> to measure another build.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export KT_ROOT=${KT_ROOT:-$root}
. "$root/test/netns/lib.sh"
kt_require || exit 1
TRIALS=${KITH_PUNCH_TRIALS:-20}
TIMEOUT_S=${KITH_PUNCH_TIMEOUT_S:-30}
RT=${KT_RUNTIME:-node}
if [ "$RT" = txiki ] && [ -z "$TJS" ]; then echo "punch bench: no tjs binary for KT_RUNTIME=txiki (set TJS)"; exit 1; fi
results=$(mktemp /tmp/kith-punch.XXXXXX)
trap 'rm -f "$results"' EXIT
trap 'exit 130' INT TERM

now_ms() { date +%s%3N; }

for t in $(seq 1 "$TRIALS"); do
  (
    KT_ID=$(( ($$ + t * 7) % 10000 )) KT_TMP=$(mktemp -d /tmp/kith-netns.XXXXXX) KT_RUNTIME=$RT
    KT_NAMESPACES=(); KT_NODES=(); KT_PIDS=()
    trap kt_cleanup EXIT
    kt_topology
    for n in hub home1 home2; do kt_start_node $n >/dev/null 2>&1 || { echo "setup-failed"; exit 0; }; done
    kith hub init bench --node-name hub --endpoint 192.0.2.1:51820 >/dev/null
    for h in home1 home2; do kith $h join "$(kith hub invite --name $h | tail -n1)" >/dev/null 2>&1 || { echo "setup-failed"; exit 0; }; done
    t0=$(now_ms)
    if kt_wait "$TIMEOUT_S" "a direct path between the homes" kt_direct home1 home2 2>/dev/null; then
      ms=$(( $(now_ms) - t0 ))
      echo "ok $ms"
      [ "$ms" -lt "${KITH_PUNCH_SLOW_MS:-10000}" ] || kt_diag_punch home1 home2 2>&1 | sed 's/^/    /' >&2
    else
      echo "fail"
      kt_diag_punch home1 home2 2>&1 | sed 's/^/    /' >&2
    fi
  ) >>"$results"
  printf 'trial %2d: %s\n' "$t" "$(tail -n1 "$results")"
done

ok=$(grep -c '^ok' "$results" || true)
times=$(awk '/^ok/ {print $2}' "$results" | sort -n)
median=$(awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "-"}' <<<"$times")
worst=$(tail -n1 <<<"$times"); worst=${worst:--}
echo
echo "punch benchmark ($RT, $(git -C "$KT_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)): cone NAT ↔ cone NAT, $TRIALS fresh trials, ${TIMEOUT_S} s limit"
printf '%-10s %-14s %-18s %s\n' runtime "direct paths" "median ms" "worst ms"
printf '%-10s %-14s %-18s %s\n' "$RT" "$ok/$TRIALS" "$median" "$worst"
