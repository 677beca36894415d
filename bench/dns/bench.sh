#!/usr/bin/env bash
# DNS benchmark: kithd's resolver (Node.js; txiki.js when TJS is set and a
# bundle exists) against dnsmasq and unbound serving the same generated zone,
# each server pinned to one core and dnsperf to another, the same query mix
# for all (A, AAAA, NXDOMAIN, PTR, SRV). Rounds are interleaved and the
# median of each server is reported. Ends with the line
#   dns-bench: kithd/dnsmasq qps ratio R
# Needs: node, dnsperf, dnsmasq, unbound, dig, taskset, and 2 CPUs.
# Knobs (env): DNS_BENCH_SECONDS (10), DNS_BENCH_ROUNDS (3), DNS_BENCH_NODES (250),
#   DNS_BENCH_CLIENTS (4), DNS_BENCH_OUTSTANDING (200), DNS_BENCH_PORT (25350),
#   DNS_BENCH_SERVER_CPU (1), DNS_BENCH_CLIENT_CPU (0), TJS (a txiki.js binary: adds a kithd-txiki row).
set -euo pipefail
cd "$(dirname "$0")/../.."

SECONDS_PER_RUN=${DNS_BENCH_SECONDS:-10}
ROUNDS=${DNS_BENCH_ROUNDS:-3}
NODES=${DNS_BENCH_NODES:-250}
CLIENTS=${DNS_BENCH_CLIENTS:-4}
OUTSTANDING=${DNS_BENCH_OUTSTANDING:-200}
PORT=${DNS_BENCH_PORT:-25350}
SERVER_CPU=${DNS_BENCH_SERVER_CPU:-1}
CLIENT_CPU=${DNS_BENCH_CLIENT_CPU:-0}

for tool in node dnsperf dnsmasq unbound dig taskset; do
  command -v "$tool" >/dev/null || { echo "dns-bench: $tool not found (apt-get install dnsperf dnsmasq-base unbound bind9-dnsutils util-linux)" >&2; exit 2; }
done
if [ "$(nproc)" -lt 2 ]; then echo "dns-bench: warning: fewer than 2 CPUs, server and dnsperf share a core" >&2; SERVER_CPU=0; CLIENT_CPU=0; fi

WORK=$(mktemp -d /tmp/kith-dns-bench.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

node bench/dns/gen.mjs "$WORK" "$NODES" 5000 >&2

# name port; servers are started in the background and their pids recorded.
SERVERS=()
declare -A PORTS SPID
start_server() {
  local name=$1 port=$2; shift 2
  taskset -c "$SERVER_CPU" "$@" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  SPID[$name]=$!
  SERVERS+=("$name")
  PORTS[$name]=$port
}

start_server kithd-node $((PORT + 0)) node --import tsx test/dns/serve-zone.ts --port $((PORT + 0)) --zone-json "$WORK/zone.json"
# The same server on Node's dgram, without the batched UDP addon.
start_server kithd-node-dgram $((PORT + 4)) env KITH_NATIVE_UDP=0 node --import tsx test/dns/serve-zone.ts --port $((PORT + 4)) --zone-json "$WORK/zone.json"
if [ -f src/platform/native/build/Release/kith_udp.node ]; then NATIVE_NOTE="kithd-node: batched UDP addon (recvmmsg/sendmmsg); kithd-node-dgram: Node's dgram"
else NATIVE_NOTE="kithd-node: the batched UDP addon is not built (make build), so both kithd-node rows use dgram"; fi
start_server dnsmasq $((PORT + 1)) dnsmasq -k -C "$WORK/dnsmasq.conf" --port=$((PORT + 1)) --user="$(id -un)"
sed "s/@PORT@/$((PORT + 2))/" "$WORK/unbound.conf.in" >"$WORK/unbound.conf"
start_server unbound $((PORT + 2)) unbound -d -c "$WORK/unbound.conf"
TXIKI_NOTE="txiki.js: skipped (no TJS)"
if [ -n "${TJS:-}" ]; then
  if [ -x "$TJS" ] && node bench/dns/bundle-txiki.mjs "$WORK/serve-zone-txiki.js" >&2; then
    start_server kithd-txiki $((PORT + 3)) "$TJS" run "$WORK/serve-zone-txiki.js" --port $((PORT + 3)) --zone-json "$WORK/zone.json"
    TXIKI_NOTE=""
  else
    TXIKI_NOTE="txiki.js: skipped (TJS=$TJS is not executable or the bundle failed)"
  fi
fi

# Wait (bounded) until each answers, then check they agree on sample answers.
for name in "${SERVERS[@]}"; do
  for _ in $(seq 1 100); do
    dig +short +time=1 +tries=1 @127.0.0.1 -p "${PORTS[$name]}" node1.bench.internal A 2>/dev/null | grep -q 100.64 && continue 2
    sleep 0.2
  done
  echo "dns-bench: $name did not come up; its log:" >&2; cat "$WORK/$name.log" >&2; exit 1
done
answers() { # port: a canonical digest of the answers to the first queries of the mix
  head -n 25 "$WORK/queries.txt" | while read -r qname qtype; do
    out=$(dig +time=2 +tries=1 @127.0.0.1 -p "$1" "$qname" "$qtype")
    echo "$qname $qtype $(grep -o 'status: [A-Z]*' <<<"$out") $(dig +short +time=2 +tries=1 @127.0.0.1 -p "$1" "$qname" "$qtype" | sort | tr '\n' ' ')"
  done
}
answers "${PORTS[dnsmasq]}" >"$WORK/ref.txt"
for name in "${SERVERS[@]}"; do
  answers "${PORTS[$name]}" >"$WORK/$name.answers"
  if ! diff -q "$WORK/ref.txt" "$WORK/$name.answers" >/dev/null; then
    echo "dns-bench: warning: $name answers differ from dnsmasq:" >&2; diff "$WORK/ref.txt" "$WORK/$name.answers" | head -n 10 >&2
  fi
done

CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system time of a process
run_perf() { # name seconds -> "qps latency_ms lost cpu_us_per_query"
  local out c0 c1
  c0=$(cpu_ticks "${SPID[$1]}")
  out=$(taskset -c "$CLIENT_CPU" dnsperf -s 127.0.0.1 -p "${PORTS[$1]}" -d "$WORK/queries.txt" -l "$2" -c "$CLIENTS" -q "$OUTSTANDING" 2>&1) || true
  c1=$(cpu_ticks "${SPID[$1]}")
  awk -v ticks=$((c1 - c0)) -v hz="$CLK_TCK" '/Queries per second:/ {q=$4} /Average Latency \(s\):/ {l=$4*1000} /Queries lost:/ {lost=$3}
    /Queries completed:/ {done=$3} END {printf "%.0f %.3f %s %.2f\n", q, l, lost, (done > 0 ? ticks * 1e6 / hz / done : 0)}' <<<"$out"
}

for name in "${SERVERS[@]}"; do run_perf "$name" 2 >/dev/null; done # warm-up (JIT, caches)
for round in $(seq 1 "$ROUNDS"); do
  for name in "${SERVERS[@]}"; do
    r=$(run_perf "$name" "$SECONDS_PER_RUN")
    echo "$r" >>"$WORK/$name.runs"
    echo "dns-bench: round $round $name: qps ${r%% *}" >&2
  done
done

median_line() { sort -n -k1,1 "$WORK/$1.runs" | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'; }
echo
echo "dns-bench: $NODES nodes, mix A/AAAA/NXDOMAIN/PTR/SRV, ${SECONDS_PER_RUN}s x $ROUNDS rounds (median), dnsperf -c $CLIENTS -q $OUTSTANDING on cpu $CLIENT_CPU, servers on cpu $SERVER_CPU"
echo "(cpu us/query: the server's user+system CPU time per answered query during its run; lower is better)"
printf '%-14s %10s %16s %8s %14s\n' server qps 'avg latency ms' lost 'cpu us/query'
for name in "${SERVERS[@]}"; do
  read -r qps lat lost cpu <<<"$(median_line "$name")"
  printf '%-14s %10s %16s %8s %14s\n' "$name" "$qps" "$lat" "$lost" "$cpu"
done
echo "$NATIVE_NOTE"
[ -n "$TXIKI_NOTE" ] && echo "$TXIKI_NOTE"
# The resolver alone, without sockets: how much of the per-query cost is ours.
taskset -c "$SERVER_CPU" node --import tsx bench/dns/resolve-loop.ts 2>/dev/null || echo "resolve-loop (node): failed"
taskset -c "$SERVER_CPU" node bench/dns/resolve-qjs.mjs 2>/dev/null || echo "resolve-loop (quickjs-ng wasm): failed"
kq=$(median_line kithd-node | cut -d' ' -f1)
dq=$(median_line dnsmasq | cut -d' ' -f1)
awk -v k="$kq" -v d="$dq" 'BEGIN {printf "dns-bench: kithd/dnsmasq qps ratio %.2f\n", (d > 0 ? k / d : 0)}'
