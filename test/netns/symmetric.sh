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
kt_exec home1 ping -i0.2 -c100 -W1 "$ip2" >"$KT_TMP/sym-ping.txt" 2>&1
got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$KT_TMP/sym-ping.txt")
[ "${got:-0}" -ge 99 ] && kt_ok "home1 reaches home2 through 20 s of punch attempts ($got/100 pings)" || kt_bad "relayed pings $got/100"
path=$(kith home1 peers --json | node -e 'const p=JSON.parse(require("fs").readFileSync(0)).find(x=>x.name==="home2"); console.log(p.path+" "+p.via)')
[ "$path" = "relayed hub" ] && kt_ok "behind symmetric NATs home1 reaches home2 relayed via hub" || kt_bad "path: $path"
grep -q "punch: opening" "$KT_TMP"/home*.log && kt_ok "a punch was attempted and given up" || kt_bad "no punch attempt logged"
kt_summary symmetric.sh
