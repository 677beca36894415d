#!/usr/bin/env bash
# Homes behind symmetric NATs (a new random port per destination): no punch
# can work, so the homes reach each other relayed through the hub, and the
# failed punch attempts never disturb the relayed traffic.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
trap kt_cleanup EXIT
trap 'exit 130' INT TERM

KT_NAT_MODE=symmetric kt_topology
for n in hub home1 home2; do kt_start_node $n; done
kith hub init demo --node-name hub --endpoint 192.0.2.1:51820 >/dev/null
for h in home1 home2; do kith $h join "$(kith hub invite --name $h | tail -n1)" >/dev/null 2>&1 || kt_bad "$h join"; done
for n in hub home1 home2; do kt_check "$n sees both other members" kt_wait 30 "$n converged" kt_converged $n 2; done
ip2=$(kt_ip home2)
kt_exec home1 ping -D -i0.2 -c100 -W1 "$ip2" >"$KT_TMP/sym-ping.txt" 2>&1
got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$KT_TMP/sym-ping.txt")
# The pings that got no answer, and when they were sent (against the logs below).
lost() { local start; start=$(sed -n 's/^\[\([0-9.]*\)\].*icmp_seq=1 .*/\1/p' "$KT_TMP/sym-ping.txt"); for s in $(seq 1 100); do grep -q "icmp_seq=$s " "$KT_TMP/sym-ping.txt" || printf ' %s (%s)' "$s" "$(date -u -d "@$(awk -v t="${start:-0}" -v s="$s" 'BEGIN { printf "%.3f", t + (s - 1) * 0.2 }')" +%T.%3N)"; done; }
[ "${got:-0}" -ge 99 ] && kt_ok "home1 reaches home2 through 20 s of punch attempts ($got/100 pings)" || kt_bad "relayed pings $got/100; lost:$(lost)"
path=$(kith home1 peers --json | node -e 'const p=JSON.parse(require("fs").readFileSync(0)).find(x=>x.name==="home2"); console.log(p.path+" "+p.via)')
[ "$path" = "relayed hub" ] && kt_ok "behind symmetric NATs home1 reaches home2 relayed via hub" || kt_bad "path: $path"
why=$(kith home1 peers --json | node -e 'const p=JSON.parse(require("fs").readFileSync(0)).find(x=>x.name==="home2"); console.log(p.whyNotDirect || "")')
grep -q "both behind NAT" <<<"$why" && kt_ok "kith peers says why home2 is not direct: $why" || kt_bad "whyNotDirect: '$why'"
# The relay forwards only ciphertext: a capture on the hub's Kith interface
# while home1 pings home2 with a marker in every payload shows the pair's
# end-to-end WireGuard UDP between transport addresses, and neither the marker
# nor a packet between the homes' overlay addresses.
pcap="$KT_TMP/hub-relay.pcap"
kt_spawn hub "$KT_TMP/tcpdump.log" timeout 20 tcpdump -i "$(kt_if hub)" -n -U -s 0 -w "$pcap"
tcpdump_pid=$KT_LAST_PID
kt_wait 10 "tcpdump listening" grep -q "listening on" "$KT_TMP/tcpdump.log"
kt_exec home1 ping -c 20 -i 0.2 -W1 -p 6b6974682d6d61726b6572 "$ip2" >"$KT_TMP/marker-ping.txt" 2>&1
sleep 1; kill "$tcpdump_pid" 2>/dev/null; kt_wait 10 "tcpdump flushed" bash -c "! kill -0 $tcpdump_pid 2>/dev/null"
marked=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$KT_TMP/marker-ping.txt")
e2e=$(tcpdump -r "$pcap" -n "udp port 51822" 2>/dev/null | wc -l)
clear=$(tcpdump -r "$pcap" -n "host $(kt_ip home1) and host $ip2" 2>/dev/null | wc -l)
if [ "${marked:-0}" -ge 19 ] && [ "$e2e" -ge 38 ] && [ "$clear" = 0 ] && ! grep -aq 'kith-marker' "$pcap"; then
  kt_ok "the hub relays home1↔home2 as ciphertext: $e2e end-to-end datagrams on its Kith interface, no overlay address, no payload ($marked/20 marked pings)"
else
  kt_bad "relay capture: $marked/20 pings, $e2e end-to-end datagrams, $clear packets between the homes' overlay addresses, marker $(grep -ac 'kith-marker' "$pcap")"
fi
grep -q "punch: opening" "$KT_TMP"/home*.log && kt_ok "a punch was attempted and given up" || kt_bad "no punch attempt logged"
kt_summary symmetric.sh
