#!/usr/bin/env bash
# What end-to-end relaying costs: two homes behind symmetric NATs (no punch
# can work) reach each other through the public hub, their traffic encrypted
# end to end and carried inside the outer tunnels. TCP throughput (iperf3)
# and ping RTT home1 → home2 (relayed) against home1 → hub (direct), and the
# hub's CPU time while it relays, in one run and one table.
# Data plane here: wireguard-go (no kernel module). KITH_BENCH_SECONDS (default 5).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/test/netns/lib.sh"
kt_require || exit 1
command -v iperf3 >/dev/null || { echo "relay: iperf3 missing (make deps-bench)"; exit 2; }
SECS=${KITH_BENCH_SECONDS:-5}
trap kt_cleanup EXIT
trap 'exit 130' INT TERM
iperf() { # iperf <client-ns> <server-ip> → Mbit/s
  kt_exec "$1" iperf3 -c "$2" -t "$SECS" -J 2>/dev/null | node -e 'const r=JSON.parse(require("fs").readFileSync(0)); console.log((r.end.sum_received.bits_per_second/1e6).toFixed(0))'
}
iperf_server() { # iperf_server <node> <address>
  kt_spawn "$1" "$KT_TMP/iperf3-$1.log" iperf3 -s -1 -B "$2"
  kt_wait 10 "iperf3 listening on $2" bash -c "ip netns exec $(kt_ns "$1") ss -Hltn 'sport = :5201' | grep -q 5201"
}
rtt() { kt_exec "$1" ping -c 20 -i 0.2 -W1 "$2" | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p'; }
# CPU seconds (user + system) of every process in a namespace so far.
ns_cpu() { local t=0 p; for p in $(ip netns pids "$(kt_ns "$1")"); do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo "$t"; }

KT_NAT_MODE=symmetric kt_topology
for n in hub home1 home2; do kt_start_node $n; done
kith hub init bench --node-name hub --endpoint 192.0.2.1:51820 >/dev/null
for h in home1 home2; do kith $h join "$(kith hub invite --name $h | tail -n1)" >/dev/null 2>&1; done
for n in hub home1 home2; do kt_wait 30 "$n converged" kt_converged $n 2 || exit 1; done
ip2=$(kt_ip home2)
relayed() { [ "$(kt_path home1 home2)" = "relayed via hub" ]; }
kt_wait 30 "home1 → home2 relayed via hub" relayed >/dev/null || exit 1

iperf_server hub 100.64.0.1
direct_mbit=$(iperf home1 100.64.0.1)
direct_rtt=$(rtt home1 100.64.0.1)
iperf_server home2 "$ip2"
c0=$(ns_cpu hub)
relayed_mbit=$(iperf home1 "$ip2")
c1=$(ns_cpu hub)
relayed_rtt=$(rtt home1 "$ip2")
hz=$(getconf CLK_TCK)

echo
echo "| home1 → | path | TCP Mbit/s | ping RTT ms | hub CPU while relaying |"
echo "| --- | --- | --- | --- | --- |"
echo "| hub | direct | $direct_mbit | $direct_rtt | |"
echo "| home2 | relayed via hub, end to end | $relayed_mbit | $relayed_rtt | $(awk -v c=$((c1 - c0)) -v hz="$hz" -v s="$SECS" 'BEGIN {printf "%.0f %% of one core", 100 * c / hz / s}') |"
