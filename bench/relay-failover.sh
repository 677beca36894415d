#!/usr/bin/env bash
# Relay failover time: N fresh runs of test/netns/relay-failover.sh (two homes
# behind symmetric NATs relayed through one of two public relays; the relay
# loses its WAN link mid-ping). Each run reports the outage, the longest run
# of lost pings sent every 100 ms; this prints them, the median and the worst.
#   KITH_RELAY_FAILOVER_TRIALS (default 5), KT_RUNTIME=node|txiki.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
TRIALS=${KITH_RELAY_FAILOVER_TRIALS:-5}
RT=${KT_RUNTIME:-node}
gaps=()
for t in $(seq 1 "$TRIALS"); do
  out=$(KT_RUNTIME=$RT KT_ID=$(( ($$ + t * 13) % 10000 )) bash "$root/test/netns/relay-failover.sh" 2>&1)
  gap=$(sed -n 's/^result relay-failover [a-z]* outage-ms=\([0-9]*\)$/\1/p' <<<"$out")
  if [ -n "$gap" ] && grep -q "0 failed" <<<"$out"; then gaps+=("$gap"); echo "trial $t: outage $gap ms"
  else echo "trial $t: failed"; grep -E "FAIL" <<<"$out" | sed 's/^/    /'; fi
done
sorted=$(printf '%s\n' "${gaps[@]}" | sort -n)
median=$(awk 'NF {a[++k]=$1} END {if (k) print a[int((k+1)/2)]; else print "-"}' <<<"$sorted")
worst=$(awk 'NF {w=$1} END {print (w == "" ? "-" : w)}' <<<"$sorted")
echo
echo "relay failover ($RT, $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)): the carrying relay's WAN goes down; outage = longest run of lost 100 ms pings"
printf '%-8s %-8s %-10s %s\n' runtime trials "median ms" "worst ms"
printf '%-8s %-8s %-10s %s\n' "$RT" "${#gaps[@]}/$TRIALS" "$median" "$worst"
[ "$median" != - ] && awk -v m="$median" 'BEGIN { printf "goal: the pair on another relay within 5 s: %s (median %d ms)\n", (m <= 5000 ? "met" : "NOT met"), m }'
