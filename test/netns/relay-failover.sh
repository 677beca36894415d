#!/usr/bin/env bash
# Relay failover: two homes behind symmetric NATs (no punch can work) reach
# each other through one of two public relays, hub and hub2. The relay that
# carries them loses power (its WAN link goes down: its WireGuard sessions
# look fresh to the homes for minutes). The homes find it dead by its missing
# pongs, drop its links from their records, and both move to the other relay;
# a ping running through it all shows the outage (bench/relay-failover.sh
# measures it over several trials; here it is only reported).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
trap kt_cleanup EXIT
trap 'exit 130' INT TERM

KT_NAT_MODE=symmetric kt_topology
kt_second_relay
kt_start_node hub; kt_start_node hub2 --config "$KT_TMP/hub2.uci"; kt_start_node home1; kt_start_node home2
kith hub init demo --node-name hub --endpoint 192.0.2.1:51820 >/dev/null
for n in hub2 home1 home2; do kt_check "$n joins" kith $n join "$(kith hub invite --name $n | tail -n1)"; done
for n in hub hub2 home1 home2; do kt_check "$n sees the 3 others" kt_wait 60 "$n converged" kt_converged $n 3; done
relayed() { kt_path home1 home2 | grep -q '^relayed via hub' && kt_path home2 home1 | grep -q '^relayed via hub'; }
kt_check "home1 and home2 reach each other relayed" kt_wait 30 "relayed both ways" relayed
ip2=$(kt_ip home2)
kt_check "home1 pings home2 through the relay" kt_wait 10 "ping" kt_exec home1 ping -c1 -W1 "$ip2"
# Paths settle once the new links' RTTs are measured (two pings, 5 s apart):
# the relay is read when both ends have named the same one for 10 s in a row.
via="" back="" same=0
for _ in $(seq 1 60); do
  v=$(kt_path home1 home2 | sed -n 's/^relayed via //p'); b=$(kt_path home2 home1 | sed -n 's/^relayed via //p')
  if [ -n "$v" ] && [ "$v" = "$b" ] && [ "$v" = "$via" ]; then same=$((same + 1)); else same=0; fi
  via=$v back=$b
  [ "$same" -ge 10 ] && break
  sleep 1
done
[ "$same" -ge 10 ] && kt_ok "both ends relay through $via, settled" || kt_bad "home1 → home2 via '$via', home2 → home1 via '$back' (not settled in 60 s)"
other=$([ "$via" = hub ] && echo hub2 || echo hub)

# 30 s of pings every 0.1 s; the relay goes dark 5 s in.
count=300
kt_spawn home1 "$KT_TMP/failover-ping.txt" ping -i 0.1 -c $count -W1 "$ip2"
ping_pid=$KT_LAST_PID
sleep 5
now=$(kt_path home1 home2)
[ "$now" = "relayed via $via" ] || kt_bad "the path moved on its own before the relay was cut: $now"
kt_exec "$via" ip link set wan down
kt_log "relay $via cut off at $(date +%T.%3N)"
moved() { [ "$(kt_path home1 home2)" = "relayed via $other" ] && [ "$(kt_path home2 home1)" = "relayed via $other" ]; }
kt_check "both homes move to $other" kt_wait 20 "relayed via $other" moved
kt_wait 40 "the ping run ends" bash -c "! kill -0 $ping_pid 2>/dev/null" || kill "$ping_pid" 2>/dev/null
got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$KT_TMP/failover-ping.txt")
gap=$(kt_longest_gap_ms "$KT_TMP/failover-ping.txt" $count 100)
tail_ok=$(for s in $(seq $((count - 19)) $count); do grep -q "icmp_seq=$s " "$KT_TMP/failover-ping.txt" && echo x; done | wc -l)
[ "$tail_ok" -ge 19 ] && kt_ok "pings flow again through $other ($got/$count in all, the last 20: $tail_ok)" || kt_bad "the last 20 pings: $tail_ok/20 ($got/$count in all)"
echo "result relay-failover $KT_RUNTIME outage-ms=$gap"
[ "$gap" -le 10000 ] && kt_ok "outage while the pair moved: $gap ms (longest run of lost pings)" || kt_bad "outage $gap ms"
for h in home1 home2; do
  grep -q "relay $via is not answering" "$KT_TMP/$h.log" && kt_ok "$h logged the dead relay" || kt_bad "$h did not log the dead relay: $(grep -i relay "$KT_TMP/$h.log" | tail -n2)"
done
st=$(kith home1 status)
grep -q "relays   not answering: $via" <<<"$st" && kt_ok "kith status on home1 names the dead relay" || kt_bad "kith status: $(grep relays <<<"$st")"
kt_summary relay-failover.sh
