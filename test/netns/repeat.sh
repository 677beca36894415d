#!/usr/bin/env bash
# Runs the namespace suite N times (default 10) and prints, per runtime, how
# many runs passed; the log (and the failing tests' directories) of every
# failed run is kept beside the summary.
#   bash test/netns/repeat.sh [N]     (make test-repeat N=10)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
N=${1:-10}
logs=$(mktemp -d /tmp/kith-repeat.XXXXXX)
declare -A PASS RUNS
for k in $(seq 1 "$N"); do
  KT_KEEP_DIR="$logs/run$k-kept" bash "$here/run.sh" >"$logs/run$k.log" 2>&1
  while read -r _ rt res; do
    RUNS[$rt]=$(( ${RUNS[$rt]:-0} + 1 ))
    [ "$res" = pass ] && PASS[$rt]=$(( ${PASS[$rt]:-0} + 1 ))
  done < <(grep '^netns-result ' "$logs/run$k.log")
  summary=$(grep -E '^netns-result|LEFT BEHIND|run skipped|FAIL' "$logs/run$k.log" | tr '\n' ' ')
  echo "run $k/$N: $summary"
  if ! grep -q 'LEFT BEHIND\|netns-result .* fail' "$logs/run$k.log"; then rm -rf "$logs/run$k.log" "$logs/run$k-kept"; fi
done
echo
echo "namespace suite, $N runs:"
for rt in "${!RUNS[@]}"; do echo "  $rt: ${PASS[$rt]:-0}/${RUNS[$rt]} passed"; done
if ls "$logs"/run*.log >/dev/null 2>&1; then echo "logs of failed runs: $logs"; exit 1; fi
rmdir "$logs"
