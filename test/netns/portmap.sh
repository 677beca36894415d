#!/usr/bin/env bash
# Homes behind symmetric NATs whose routers run miniupnpd (nat1 UPnP-IGD only,
# nat2 NAT-PMP and PCP only): each
# kithd maps its WireGuard port on its router and advertises the mapping, so
# the homes connect directly where without it they stay relayed
# (symmetric.sh); the mapping is deleted when kithd stops. miniupnpd maps
# nothing on a WAN address it deems reserved (TEST-NET is) unless STUN shows
# nothing filters in front of it: a STUN server on the simulated internet
# (stun-server.mjs) answers it, and the routers' own traffic is not translated.
# Needs miniupnpd (Debian: miniupnpd-nftables) and conntrack.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
trap kt_cleanup EXIT
trap 'exit 130' INT TERM
for c in miniupnpd conntrack; do command -v $c >/dev/null || { kt_bad "missing $c (run: make deps)"; kt_summary portmap.sh; exit 1; }; done

KT_NAT_MODE=symmetric kt_topology
kt_exec inet ip addr add 192.0.2.253/24 dev e-hub
kt_spawn inet "$KT_TMP/stun.log" node "$KT_ROOT/test/netns/stun-server.mjs" 192.0.2.254 192.0.2.253 3478 3479
for i in 1 2; do
  # Symmetric NAT for the LAN only; the chains miniupnpd fills (its defaults: table inet filter).
  kt_exec nat$i nft flush chain ip nat postrouting
  kt_exec nat$i nft add rule ip nat postrouting oifname wan ip saddr 198.18.$i.0/24 masquerade random,fully-random
  kt_exec nat$i nft -f - <<NFT
table inet filter {
  chain forward { type filter hook forward priority filter; policy accept; jump miniupnpd; }
  chain miniupnpd { }
  chain prerouting { type nat hook prerouting priority dstnat; policy accept; jump prerouting_miniupnpd; }
  chain postrouting { type nat hook postrouting priority srcnat; policy accept; jump postrouting_miniupnpd; }
  chain prerouting_miniupnpd { }
  chain postrouting_miniupnpd { }
}
NFT
  cat >"$KT_TMP/miniupnpd-nat$i.conf" <<CONF
ext_ifname=wan
listening_ip=br0
enable_natpmp=$([ $i = 2 ] && echo yes || echo no)
enable_upnp=$([ $i = 1 ] && echo yes || echo no)
port=0
ext_perform_stun=yes
ext_stun_host=192.0.2.254
ext_stun_port=3478
secure_mode=yes
lease_file=$KT_TMP/miniupnpd-nat$i.leases
uuid=6b697468-706d-4000-8000-00000000000$i
allow 1024-65535 198.18.$i.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
CONF
done
kt_wait 10 "STUN server" kt_exec inet ss -lnu sport = :3479
for i in 1 2; do
  kt_spawn nat$i "$KT_TMP/miniupnpd-nat$i.log" miniupnpd -f "$KT_TMP/miniupnpd-nat$i.conf" -d -P "$KT_TMP/miniupnpd-nat$i.pid"
  kt_check "miniupnpd on nat$i maps ports (STUN: nothing filters in front of it)" kt_wait 20 "miniupnpd nat$i" grep -q "Port forwarding is now enabled" "$KT_TMP/miniupnpd-nat$i.log"
done

for n in hub home1 home2; do kt_start_node $n; done
kith hub init demo --node-name hub --endpoint 192.0.2.1:51820 >/dev/null
for h in home1 home2; do kith $h join "$(kith hub invite --name $h | tail -n1)" >/dev/null 2>&1 || kt_bad "$h join"; done

# The portmap view of `kith status --json`: "state external".
portmap_of() { kith "$1" status --json | node -e 'const s = JSON.parse(require("fs").readFileSync(0)).portmap; console.log(`${s.state} ${s.external ?? s.reason}`)'; }
mapped_on() { [[ "$(portmap_of "$1")" == "mapped $2:"* ]]; }
dnat_on() { grep -q "dnat ip to $2:${3:-51820}" <<<"$(kt_exec "$1" nft list chain inet filter prerouting_miniupnpd)"; }
declare -A WAN=([1]=198.51.100.1 [2]=203.0.113.1)
for i in 1 2; do
  if kt_wait 20 "home$i mapped" mapped_on home$i "${WAN[$i]}"; then kt_ok "home$i holds a mapping on nat$i: $(portmap_of home$i)"; else kt_bad "home$i portmap: $(portmap_of home$i)"; fi
  if kt_wait 10 "nat$i DNAT" dnat_on nat$i 198.18.$i.2; then kt_ok "nat$i forwards the mapped port to home$i:51820 (nftables DNAT by miniupnpd)"
  else kt_bad "nat$i DNAT: $(kt_exec nat$i nft list chain inet filter prerouting_miniupnpd 2>&1 | tr '\n' ' ')"; fi
  ep=$(portmap_of home$i | cut -d' ' -f2)
  kt_check "home$i advertises $ep in its record (kind configured: members dial it)" kt_wait 10 "home$i record" bash -c "kith() { KITH_STATE_DIR=$KT_TMP/home$i ip netns exec $(kt_ns home$i) $(kt_kith_cmd) \"\$@\"; }; kith status --json | grep -q '\"configured $ep\"'"
done
proto_of() { kith "$1" status --json | node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).portmap.protocol)'; }
[ "$(proto_of home1)" = upnp ] && kt_ok "home1's router speaks only UPnP-IGD, and home1 mapped through it" || kt_bad "home1's mapping protocol: $(proto_of home1)"
[[ "$(proto_of home2)" =~ ^(nat-pmp|pcp)$ ]] && kt_ok "home2's router speaks NAT-PMP and PCP: $(proto_of home2)" || kt_bad "home2's mapping protocol: $(proto_of home2)"
hub_unavailable() { [[ "$(portmap_of hub)" == "unavailable "* ]]; }
# Its client asks NAT-PMP, then PCP, four times each (0.25 s doubling) before it says so.
if kt_wait 20 "the hub's port mapping to give up" hub_unavailable; then kt_ok "the hub, whose gateway answers no port mapping, says so: $(portmap_of hub)"; else kt_bad "hub portmap: $(portmap_of hub)"; fi
[ "$(grep -c "portmap: .*no mapped endpoint" "$KT_TMP/hub.log")" = 1 ] && kt_ok "the hub logs it once, at info" || kt_bad "hub portmap log lines: $(grep -c 'portmap:' "$KT_TMP/hub.log")"

for n in hub home1 home2; do kt_check "$n sees both other members" kt_wait 30 "$n converged" kt_converged $n 2; done
if kt_wait 30 "a direct path between home1 and home2" kt_direct home1 home2; then kt_ok "home1 and home2 connect directly through both symmetric NATs (mapped ports)"
else kt_bad "home1-home2 path: $(kt_path home1 home2) / $(kt_path home2 home1)"; kt_diag_punch home1 home2; fi
ip2=$(kt_ip home2)
kt_exec home1 ping -i0.2 -c20 -W1 "$ip2" >"$KT_TMP/pm-ping.txt" 2>&1
got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$KT_TMP/pm-ping.txt")
[ "${got:-0}" -ge 19 ] && kt_ok "home1 pings home2 over the direct path ($got/20)" || kt_bad "pings $got/20, missing: $(kt_missing_seqs "$KT_TMP/pm-ping.txt" 20)"
[ "$(kt_path home1 home2)" = direct ] && kt_ok "the path is still direct after the pings" || kt_bad "path after pings: $(kt_path home1 home2)"

# PCP against the same server: a MAP request from lan2 encoded by Kith's codec, the reply read by its decoder; then deleted.
pcp() { kt_exec lan2 "$KT_ROOT/node_modules/.bin/tsx" "$KT_ROOT/test/netns/pcp-probe.ts" 198.18.2.1 198.18.2.3 "$@"; }
got=$(pcp 40001 600)
if grep -q '"result":0' <<<"$got" && grep -q '"external":"203.0.113.1"' <<<"$got" && grep -q '"nonceMatches":true' <<<"$got" && dnat_on nat2 198.18.2.3 40001; then
  kt_ok "PCP: nat2 maps lan2's port 40001 for Kith's MAP request ($got)"
else kt_bad "PCP MAP: $got; nat2: $(kt_exec nat2 nft list chain inet filter prerouting_miniupnpd | grep dnat | tr '\n' ' ')"; fi
got=$(pcp 40001 0)
grep -q '"result":0' <<<"$got" && ! dnat_on nat2 198.18.2.3 40001 && kt_ok "PCP: a MAP with lifetime 0 deletes it" || kt_bad "PCP delete: $got"

# The NAT stays symmetric for what has no mapping: one LAN source port, two destinations, two external ports.
kt_exec lan1 node -e "const s = require('dgram').createSocket('udp4'); s.bind(40000, () => s.send('a', 9, '192.0.2.1', () => s.send('b', 10, '192.0.2.1', () => s.close())));"
ports=$(kt_exec nat1 conntrack -L -p udp --orig-src 198.18.1.3 --orig-port-src 40000 2>/dev/null | sed -n 's/.*src=192.0.2.1 dst=198.51.100.1 sport=[0-9]* dport=\([0-9]*\).*/\1/p' | sort -u | wc -l)
[ "$ports" = 2 ] && kt_ok "nat1 still maps an unmapped LAN port to a new port per destination (symmetric)" || kt_bad "lan1's two flows got $ports distinct external ports"

kt_stop_node home1 TERM
kt_check "home1's kithd deleted its UPnP mapping when it stopped" grep -q "portmap: UPnP mapping deleted" "$KT_TMP/home1.log"
if kt_wait 10 "nat1's DNAT gone" bash -c "! ip netns exec $(kt_ns nat1) nft list chain inet filter prerouting_miniupnpd | grep -q 'dnat ip to 198.18.1.2:51820'"; then
  kt_ok "nat1's forwarding of the mapped port is gone after kithd stopped"
else kt_bad "nat1 still forwards: $(kt_exec nat1 nft list chain inet filter prerouting_miniupnpd | grep dnat)"; fi
kt_summary portmap.sh
