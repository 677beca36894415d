#!/usr/bin/env bash
# Kith against tinc on the same namespace topology (a public hub, a home
# behind NAT): memory of the daemons on the home node and TCP throughput over
# the overlay (iperf3, home → hub), in one run and one table.
# Kith's data plane here is wireguard-go (no kernel module); on a router it is
# kernel WireGuard. TJS=/path/to/tjs measures kithd under txiki.js.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/test/netns/lib.sh"
kt_require || exit 1
for c in tincd iperf3; do command -v $c >/dev/null || { echo "vs-tinc: $c missing (make deps-bench)"; exit 2; }; done
SECS=${KITH_BENCH_SECONDS:-5}
TJS=${TJS:-$(command -v tjs || true)}
[ -n "$TJS" ] && [ -x "$TJS" ] && KT_RUNTIME=txiki && export TJS
trap kt_cleanup EXIT
trap 'exit 130' INT TERM
rss_kb() { awk '/^VmRSS/ {s+=$2} END {print s+0}' $(for p in "$@"; do echo "/proc/$p/status"; done) 2>/dev/null; }
iperf() { # iperf <client-ns> <server-ip> → Mbit/s
  kt_exec "$1" iperf3 -c "$2" -t "$SECS" -J 2>/dev/null | node -e 'const r=JSON.parse(require("fs").readFileSync(0)); console.log((r.end.sum_received.bits_per_second/1e6).toFixed(0))'
}

# A one-test iperf3 server in the node's namespace, ended by kt_cleanup by its id if it outlives its test.
iperf_server() { # iperf_server <node> <address>
  kt_spawn "$1" "$KT_TMP/iperf3-$1.log" iperf3 -s -1 -B "$2"
  kt_wait 10 "iperf3 listening on $2" bash -c "ip netns exec $(kt_ns "$1") ss -Hltn 'sport = :5201' | grep -q 5201"
}

kt_topology

# --- Kith
kt_start_node hub; kt_start_node home1
kith hub init bench --node-name hub --endpoint 192.0.2.1:51820 >/dev/null
kith home1 join "$(kith hub invite | tail -n1)" --node-name home1 >/dev/null 2>&1
kt_wait 20 "overlay" kt_exec home1 ping -c1 -W1 100.64.0.1
iperf_server hub 100.64.0.1
kith_mbit=$(iperf home1 100.64.0.1)
sleep 3
wg_pid=$(pgrep -f "^wireguard-go $(kt_if home1)\$")
kith_rss=$(rss_kb "$KT_PID_home1"); wg_rss=$(rss_kb "$wg_pid")

# --- tinc 1.0 (router mode, one tun per node), on its own range inside the overlay space
for n in hub home1; do
  d="$KT_TMP/tinc-$n"; mkdir -p "$d/hosts"
  ip=$([ $n = hub ] && echo 100.65.0.1 || echo 100.65.0.2)
  { echo "Name = $n"; echo "Interface = t$KT_ID$n" | cut -c1-25; echo "Mode = router"; [ $n = home1 ] && echo "ConnectTo = hub"; } >"$d/tinc.conf"
  { [ $n = hub ] && echo "Address = 192.0.2.1"; echo "Subnet = $ip/32"; } >"$d/hosts/$n"
  printf '#!/bin/sh\nip addr add %s/16 dev $INTERFACE\nip link set $INTERFACE up\n' "$ip" >"$d/tinc-up"; chmod +x "$d/tinc-up"
  kt_exec $n tincd -c "$d" -K2048 </dev/null >/dev/null 2>&1
done
cp "$KT_TMP/tinc-hub/hosts/hub" "$KT_TMP/tinc-home1/hosts/hub"; cp "$KT_TMP/tinc-home1/hosts/home1" "$KT_TMP/tinc-hub/hosts/home1"
for n in hub home1; do
  kt_spawn $n "$KT_TMP/tinc-$n.log" tincd -c "$KT_TMP/tinc-$n" -D --pidfile="$KT_TMP/tinc-$n.pid"
  eval "TINC_$n=$KT_LAST_PID"
done
kt_wait 20 "tinc overlay" kt_exec home1 ping -c1 -W1 100.65.0.1
iperf_server hub 100.65.0.1
tinc_mbit=$(iperf home1 100.65.0.1)
sleep 1
tinc_rss=$(rss_kb "$TINC_home1")

echo
echo "kith vs tinc: home node behind NAT → public hub, iperf3 ${SECS}s over the overlay"
printf '%-34s %14s %20s\n' "" "throughput" "RSS on the home node"
printf '%-34s %9s Mbit/s %17s KiB\n' "kithd ($KT_RUNTIME) + wireguard-go" "$kith_mbit" "$((kith_rss + wg_rss))"
printf '%-34s %9s %17s KiB\n' "  of which kithd" "" "$kith_rss"
printf '%-34s %9s Mbit/s %17s KiB\n' "tincd 1.0" "$tinc_mbit" "$tinc_rss"
