#!/usr/bin/env bash
# Mesh benchmark: time from `kith join` to the first overlay ping reply, and
# kithd's resident memory, for each runtime, measured on the namespace
# topology of the demo (public hub, two homes behind NAT). Prints one table.
#   KITH_BENCH_RUNS (default 5) joins per runtime; TJS=/path/to/tjs adds txiki.js.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/test/netns/lib.sh"
kt_require || exit 1
RUNS=${KITH_BENCH_RUNS:-5}
runtimes=(node)
[ -n "$TJS" ] && runtimes+=(txiki)  # lib.sh found one (TJS, ../shared/router/bin/tjs, or PATH)

now_ms() { date +%s%3N; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null; }
stats() { sort -n | awk '{a[NR]=$1; s+=$1} END {printf "%d / %d / %d", a[1], a[int((NR+1)/2)], a[NR]}'; }

out=$(mktemp -d /tmp/kith-bench.XXXXXX)
trap 'rm -rf "$out"' EXIT
trap 'exit 130' INT TERM
results=()
for rt in "${runtimes[@]}"; do
  joins=()
  rss_hub=""; rss_home=""
  for run in $(seq 1 "$RUNS"); do
    (
      KT_RUNTIME=$rt KT_ID=$(( ($$ + run) % 10000 )) KT_TMP=$(mktemp -d /tmp/kith-bench.XXXXXX)
      KT_NAMESPACES=(); KT_NODES=(); KT_PIDS=()
      trap kt_cleanup EXIT
      trap 'exit 130' INT TERM
      kt_topology
      kt_start_node hub; kt_start_node home1
      kith hub init bench --node-name hub --endpoint 192.0.2.1:51820 >/dev/null
      code=$(kith hub invite | tail -n1)
      t0=$(now_ms)
      kith home1 join "$code" --node-name home1 >/dev/null 2>&1
      for i in $(seq 1 200); do kt_exec home1 ping -c1 -W0.1 100.64.0.1 >/dev/null 2>&1 && break; done
      t1=$(now_ms)
      sleep 5  # settle, then read memory in steady state
      echo "$((t1 - t0)) $(rss_kb "$KT_PID_hub") $(rss_kb "$KT_PID_home1")"
    ) >"$out/$rt-$run.txt" 2>/dev/null
  done
  j=$(cat "$out"/$rt-*.txt | awk '{print $1}' | stats)
  h=$(cat "$out"/$rt-*.txt | awk '{print $2}' | stats)
  m=$(cat "$out"/$rt-*.txt | awk '{print $3}' | stats)
  results+=("$(printf '%-8s %-28s %-24s %-24s' "$rt" "$j" "$h" "$m")")
  rm -f "$out"/$rt-*.txt
done

echo
echo "mesh benchmark: $RUNS joins per runtime (min / median / max)"
printf '%-8s %-28s %-24s %-24s\n' runtime "join→first ping ms" "hub kithd RSS KiB" "member kithd RSS KiB"
for r in "${results[@]}"; do echo "$r"; done
[ ${#runtimes[@]} = 1 ] && echo "txiki.js: skipped (no tjs binary: set TJS=/path/to/tjs)"
node "$root/build/sizes.mjs" 2>/dev/null | tail -n 6 || true
