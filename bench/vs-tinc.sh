#!/usr/bin/env bash
# Kith against bare wireguard-go and tinc on the same namespace topology (a
# public hub, a home behind NAT): TCP throughput over each overlay (iperf3,
# home → hub), ROUNDS rounds (default 3) taken in turn, the median of each,
# and Kith's throughput as a ratio of bare wireguard-go's (what Kith itself
# costs on the data path: nothing, when the ratio is about 1); then the
# daemons' memory on the home node. Kith's data plane here is wireguard-go (no
# kernel module); on a router it is kernel WireGuard. kithd runs under
# txiki.js when there is one (TJS, ../shared/router/bin/tjs, tjs on PATH).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/test/netns/lib.sh"
kt_require || exit 1
for c in tincd iperf3; do command -v $c >/dev/null || { echo "vs-tinc: $c missing (make deps-bench)"; exit 2; }; done
SECS=${KITH_BENCH_SECONDS:-5}
ROUNDS=${KITH_BENCH_ROUNDS:-3}
[ -n "${TJS:-}" ] && KT_RUNTIME=txiki
BARE_IFS=()
trap 'for i in "${BARE_IFS[@]}"; do pkill -9 -f "^wireguard-go $i\$"; rm -f "/var/run/wireguard/$i.sock"; done; kt_cleanup' EXIT
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

# --- bare wireguard-go: the same two namespaces, keys and addresses set by hand, no daemon
for n in hub home1; do
  (umask 077; wg genkey >"$KT_TMP/bare-$n.key")
  wg pubkey <"$KT_TMP/bare-$n.key" >"$KT_TMP/bare-$n.pub"
  bif="b${KT_ID}$n"; bif=${bif:0:15}
  kt_exec $n wireguard-go "$bif" >/dev/null 2>&1  # daemonizes; ended with everything left in the namespace by kt_cleanup
  BARE_IFS+=("$bif")
  ip=$([ $n = hub ] && echo 100.66.0.1 || echo 100.66.0.2)
  kt_exec $n ip addr add "$ip/16" dev "$bif"
  kt_exec $n ip link set "$bif" up mtu 1420
done
hubif="b${KT_ID}hub"; homeif="b${KT_ID}home1"
kt_exec hub wg set "${hubif:0:15}" listen-port 51900 private-key "$KT_TMP/bare-hub.key" peer "$(cat "$KT_TMP/bare-home1.pub")" allowed-ips 100.66.0.2/32
kt_exec home1 wg set "${homeif:0:15}" private-key "$KT_TMP/bare-home1.key" peer "$(cat "$KT_TMP/bare-hub.pub")" allowed-ips 100.66.0.1/32 endpoint 192.0.2.1:51900 persistent-keepalive 25
kt_wait 20 "bare WireGuard overlay" kt_exec home1 ping -c1 -W1 100.66.0.1

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

# --- ROUNDS rounds, the three overlays in turn, so that load on the machine hits them alike
declare -A mbit=()
for r in $(seq 1 "$ROUNDS"); do
  for o in kith:100.64.0.1 bare:100.66.0.1 tinc:100.65.0.1; do
    iperf_server hub "${o#*:}"
    v=$(iperf home1 "${o#*:}"); echo "round $r ${o%%:*}: ${v:-failed} Mbit/s"
    mbit[${o%%:*}]="${mbit[${o%%:*}]:-} ${v:-0}"
  done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
kith_mbit=$(median <<<"${mbit[kith]}"); bare_mbit=$(median <<<"${mbit[bare]}"); tinc_mbit=$(median <<<"${mbit[tinc]}")
sleep 1
wg_pid=$(pgrep -f "^wireguard-go $(kt_if home1)\$")
kith_rss=$(rss_kb "$KT_PID_home1"); wg_rss=$(rss_kb "$wg_pid")
bare_rss=$(rss_kb "$(pgrep -f "^wireguard-go ${homeif:0:15}\$")")
tinc_rss=$(rss_kb "$TINC_home1")

echo
echo "home node behind NAT → public hub, iperf3 ${SECS} s over each overlay, median of $ROUNDS rounds"
printf '%-34s %14s %12s %20s\n' "" "throughput" "vs bare wg" "RSS on the home node"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
printf '%-34s %7s Mbit/s %12s %17s KiB\n' "kithd ($KT_RUNTIME) + wireguard-go" "$kith_mbit" "$(ratio "$kith_mbit" "$bare_mbit")" "$((kith_rss + wg_rss))"
printf '%-34s %14s %12s %17s KiB\n' "  of which kithd" "" "" "$kith_rss"
printf '%-34s %7s Mbit/s %12s %17s KiB\n' "bare wireguard-go (no daemon)" "$bare_mbit" "1.00" "$bare_rss"
printf '%-34s %7s Mbit/s %12s %17s KiB\n' "tincd 1.0" "$tinc_mbit" "$(ratio "$tinc_mbit" "$bare_mbit")" "$tinc_rss"
