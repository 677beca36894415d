#!/usr/bin/env bash
# Clashing LANs through mapped blocks. Both homes route the same LAN,
# 198.19.5.0/24 (a host c1 behind home1, c2 behind home2), and advertise it.
# home1 joined first: it keeps the native route, and both get a mapped block of
# the network's mapped region (block 15 of the pool). c1 and c2 reach each
# other through the blocks, each seeing the other's mapped address; the hub
# reaches c1 natively and c2 through its block; `kith peers --json` shows
# {prefix, mappedTo}; c2's web service, published by home2 with --host,
# resolves to c2's mapped address on home1 and the hub and to c2's own on
# home2, and c1 reaches it by that name; a wider overlap that cannot be mapped (home2's
# 10.77.0.0/16 over home1's 10.77.1.0/24) is refused with its reason on
# every node.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
trap kt_cleanup EXIT
trap 'exit 130' INT TERM
LAN=198.19.5

kt_topology
for i in 1 2; do
  kt_addns c$i
  kt_link home$i cl $LAN.1/24 c$i lan $LAN.2/24
  kt_exec c$i ip route add default via $LAN.1
  kt_exec home$i sysctl -qw net.ipv4.ip_forward=1
  kt_spawn c$i "$KT_TMP/c$i-echo.log" node "$KT_ROOT/test/netns/echo-server.mjs" 8080
  printf "config kith 'main'\n\nconfig subnet\n\toption prefix '%s.0/24'\n" "$LAN" >"$KT_TMP/home$i.uci"
done
# home1 also advertises 10.77.1.0/24, and home2 a /16 over it: too wide to map, refused everywhere with the reason.
printf "\nconfig subnet\n\toption prefix '10.77.1.0/24'\n" >>"$KT_TMP/home1.uci"
printf "\nconfig subnet\n\toption prefix '10.77.0.0/16'\n" >>"$KT_TMP/home2.uci"
kt_start_node hub
for i in 1 2; do kt_start_node home$i --config "$KT_TMP/home$i.uci"; done
kith hub init demo --node-name hub --endpoint 192.0.2.1:51820 >/dev/null
# home1 first: it is certified first and keeps the native range.
for h in home1 home2; do kith $h join "$(kith hub invite --name $h | tail -n1)" >/dev/null 2>&1 || kt_bad "$h join"; sleep 1; done
for n in hub home1 home2; do kt_wait 30 "$n converged" kt_converged $n 2 || kt_bad "$n converged"; done

# The mapped block of node $2's LAN as node $1 sees it (kith peers --json), "" if none; $1's own from kith status.
mapped_of() {
  if [ "$1" = "$2" ]; then
    kith "$1" status --json | node -e 'const s = JSON.parse(require("fs").readFileSync(0)); console.log((s.routes.mapped.find((m) => m.prefix === process.argv[1]) || {}).mappedTo || "")' "$LAN.0/24"
  else
    kith "$1" peers --json | node -e 'const l = JSON.parse(require("fs").readFileSync(0)); const p = l.find((x) => x.name === process.argv[1]); const s = p && p.subnets.find((x) => x.prefix === process.argv[2]); console.log((s && s.mappedTo) || "")' "$2" "$LAN.0/24"
  fi
}
has_mapping() { [ -n "$(mapped_of "$1" "$2")" ]; }
for n in hub home1 home2; do for h in home1 home2; do kt_wait 20 "$n sees $h's mapped block" has_mapping $n $h || kt_bad "$n: no mapped block for $h"; done; done
M1=$(mapped_of hub home1); M2=$(mapped_of hub home2)
same=1
for n in home1 home2; do for h in home1 home2; do [ "$(mapped_of $n $h)" = "$(mapped_of hub $h)" ] || same=0; done; done
[ "$same" = 1 ] && kt_ok "every node gives home1 $M1 and home2 $M2" || kt_bad "the nodes disagree: hub $M1 $M2, home1 $(mapped_of home1 home1) $(mapped_of home1 home2), home2 $(mapped_of home2 home1) $(mapped_of home2 home2)"
inregion() { node -e 'const [a, b, c] = process.argv[1].split("/")[0].split(".").map(Number); process.exit(a === 100 && b >= 124 && b <= 127 && process.argv[1].endsWith("/24") ? 0 : 1)' "$1"; }
inregion "$M1" && inregion "$M2" && [ "$M1" != "$M2" ] && kt_ok "two /24 blocks in the mapped region 100.124.0.0/14" || kt_bad "blocks: $M1 $M2"
host_in() { echo "${1%.*/*}.${2}"; }  # host_in 100.125.7.0/24 2 → 100.125.7.2
C1=$(host_in "$M1" 2); C2=$(host_in "$M2" 2)

fetch() { kt_exec "$1" curl -s --max-time 2 "http://$2:8080/" 2>/dev/null; }
seen_as() { [ "$(fetch "$1" "$2")" = "$3" ]; }
kt_wait 20 "c1 → c2 through $C2" seen_as c1 "$C2" "$C1" && kt_ok "c1 reaches c2 at $C2 (its mapped address); c2 sees c1 as $C1" \
  || kt_bad "c1 → $C2: c2 saw '$(fetch c1 "$C2")', expected $C1"
kt_wait 10 "c2 → c1 through $C1" seen_as c2 "$C1" "$C2" && kt_ok "c2 reaches c1 at $C1; c1 sees c2 as $C2" \
  || kt_bad "c2 → $C1: c1 saw '$(fetch c2 "$C1")', expected $C2"
kt_check "c1 still reaches its own router on the LAN ($LAN.1): the clash takes nothing local" kt_exec c1 ping -c1 -W1 $LAN.1
hubip=$(kt_ip hub)
kt_wait 10 "hub → c1 natively" seen_as hub "$LAN.2" "$hubip" && kt_ok "the hub reaches c1 natively at $LAN.2 (home1 keeps the range)" || kt_bad "hub → $LAN.2: '$(fetch hub "$LAN.2")'"
kt_wait 10 "hub → c2 through $C2" seen_as hub "$C2" "$hubip" && kt_ok "the hub reaches c2 at $C2" || kt_bad "hub → $C2: '$(fetch hub "$C2")'"
# By name: home2 publishes c2's web server; a name for a host off its LANs is refused.
kith home2 service add web 8080 --host $LAN.2 >/dev/null && kt_ok "home2 publishes web on c2 ($LAN.2)" || kt_bad "service add --host"
out=$(kith home2 service add spy 80 --host 10.99.0.1 2>&1) && kt_bad "a host off home2's LANs was accepted" \
  || { grep -q "on none of the subnets this node advertises" <<<"$out" && kt_ok "a host off its LANs is refused: $out" || kt_bad "refusal: '$out'"; }
ZONE=demo.internal
ask() { kt_exec "$1" dig +short +time=2 +tries=1 @"$2" -p "${3:-5353}" web.home2.$ZONE A 2>/dev/null; }  # the hub runs without a config: port 53
ov1=$(kt_ip home1)
answers() { [ "$(ask "$1" "$2" "${4:-}")" = "$3" ]; }
kt_wait 15 "c1 resolves web.home2 through home1's resolver" answers c1 "$ov1" "$C2" \
  && kt_ok "c1 asks home1 ($ov1): web.home2.$ZONE is $C2, c2's mapped address" || kt_bad "c1: web.home2 is '$(ask c1 "$ov1")', expected $C2"
kt_wait 10 "the hub resolves web.home2" answers hub 127.0.0.1 "$C2" 53 && kt_ok "the hub answers $C2 too" || kt_bad "hub: web.home2 is '$(ask hub 127.0.0.1 53)'"
kt_wait 10 "home2 resolves web.home2" answers home2 127.0.0.1 "$LAN.2" && kt_ok "home2 answers its own host's LAN address $LAN.2" || kt_bad "home2: web.home2 is '$(ask home2 127.0.0.1)'"
got=$(kt_exec c1 curl -s --max-time 2 --resolve "web.home2.$ZONE:8080:$(ask c1 "$ov1")" "http://web.home2.$ZONE:8080/" 2>/dev/null)
[ "$got" = "$C1" ] && kt_ok "c1 fetches http://web.home2.$ZONE:8080/ by name; c2 sees $C1" || kt_bad "fetch by name: '$got'"
for i in 1 2; do
  grep -q "dnat ip prefix to ip daddr map" <<<"$(kt_exec home$i nft list table ip kithm_51820 2>/dev/null)" && kt_ok "home$i has its netmap table" || kt_bad "home$i: no netmap table: $(kt_exec home$i nft list table ip kithm_51820 2>&1 | head -40)"
done

# What cannot be mapped is refused with the reason, on every node, home2's own status included.
why() { kith "$1" status --json | node -e 'const s = JSON.parse(require("fs").readFileSync(0)); const r = s.routes.refused.find((x) => x.prefix === "10.77.0.0/16"); console.log(r ? `${r.node} ${r.prefix}: ${r.reason}` : "")'; }
for n in hub home1 home2; do
  w=$(why $n)
  grep -q "not mapped: wider than /20" <<<"$w" && kt_ok "$n refuses $w" || kt_bad "$n: 10.77.0.0/16 refusal: '$w'"
done
if [ "$KT_FAIL" != 0 ]; then
  for n in home1 home2; do echo "--- $n: status routes / nft / table 7799"; kith $n status --json | tr -d ' \n' | grep -o '"routes":{[^}]*}[^}]*}' | head -c 1500; echo
    kt_exec $n nft list ruleset 2>&1 | head -30; kt_exec $n ip route show table 7799; done
fi
kt_summary mapped
