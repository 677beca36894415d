#!/usr/bin/env bash
# Exit nodes (uplink donation). Two public donors (hub 100 Mbit/s, don2 50
# Mbit/s) and two homes whose LAN clients share one LAN prefix. Each home uses
# `auto`; a client's fetch reaches the server from its donor's WAN address;
# the home router keeps its own default route; the donor counts bytes per
# user; from the mesh, the donor's LAN, its router services and a private
# address behind its WAN are unreachable. Bad input changes nothing. Then the
# donor of home1 dies (kithd and its WireGuard interface): home1's client is
# through the other donor within 3 s, and the other donor's user never moved.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/exits-lib.sh"
trap kt_cleanup EXIT
trap 'exit 130' INT TERM

kx_topology
kx_mesh
other() { [ "$1" = hub ] && echo don2 || echo hub; }

# Bad input: clear one-line errors, nothing changes.
before=$(kith home1 status --json | grep -A5 '"exit"')
bad() { local out; out=$(kith "$@" 2>&1) && { kt_bad "kith $* was accepted"; return; }
  [ "$(wc -l <<<"$out")" = 1 ] && kt_ok "kith $*: $out" || kt_bad "kith $*: not one line: $out"; }
bad home1 exit use nosuch
bad home1 exit use home2
bad home1 exit use home1
bad home1 exit offer --capacity-mbit 0
kith home1 exit use auto >/dev/null || kt_bad "home1 exit use auto"
bad home1 exit offer
bad hub exit use don2
[ "$(kith home2 status --json | grep -A5 '"exit"')" = "$before" ] && kt_ok "bad exit commands changed nothing (home2 as before)" || kt_bad "home2's exit changed"
kith home2 exit use auto >/dev/null || kt_bad "home2 exit use auto"

for h in home1 home2; do kt_wait 20 "$h chooses an exit" kx_has_via $h || kt_bad "$h has no exit"; done
via1=$(kx_via home1); via2=$(kx_via home2)
echo "  auto: home1 → $via1, home2 → $via2"
if [ -z "$via1" ] || [ -z "$via2" ]; then
  # Nothing below means anything without a donor on each home.
  kt_bad "no exit chosen (home1 → '$via1', home2 → '$via2'): the rest is not run"; kx_dump; kt_summary exits; exit
fi
if [ "$via1" = "$via2" ]; then
  # Both hashed onto one donor: home2 names the other, so there is a user the failover must not move.
  kith home2 exit use "$(other "$via1")" >/dev/null || kt_bad "home2 exit use $(other "$via1")"
  kt_wait 10 "home2 via the other donor" kx_via_is home2 "$(other "$via1")" || kt_bad "home2 did not take $(other "$via1")"
  via2=$(kx_via home2); echo "  home2 names $via2 (both had hashed onto $via1)"
fi
grep -q '"chosen": true' <<<"$(kith home1 exits --json)" && kt_ok "kith exits shows the chosen offer" || kt_bad "kith exits: $(kith home1 exits)"

for i in 1 2; do
  h=home$i; v=$([ $i = 1 ] && echo "$via1" || echo "$via2")
  kt_wait 10 "c$i through $v" kx_fetch_via c$i "$v" && kt_ok "c$i (behind $h, LAN 198.19.5.0/24) fetches through $v: the server sees ${WAN[$v]}" \
    || kt_bad "c$i: the server saw '$(kx_fetch c$i)', expected ${WAN[$v]}"
  [ "$(kt_exec $h curl -s --max-time 2 http://$SRV:8080/)" = "$([ $i = 1 ] && echo 198.51.100.1 || echo 203.0.113.1)" ] \
    && kt_ok "$h itself still goes out through its own NAT" || kt_bad "$h's own traffic left another way"
  grep -q 'via 198.18' <<<"$(kt_exec $h ip -4 route show default)" && kt_ok "$h keeps its own default route" || kt_bad "$h default: $(kt_exec $h ip -4 route show default)"
done
ip1=$(kt_ip home1)
kith "$via1" exits --json | node -e 'const l = JSON.parse(require("fs").readFileSync(0)); const me = l.find((x) => x.self); const u = me && me.bytes.find((b) => b.ipv4 === process.argv[1]); process.exit(u && u.upBytes > 0 && u.downBytes > 0 ? 0 : 1)' "$ip1" \
  && kt_ok "$via1 counts home1's bytes (kith exits --json: $(kith "$via1" exits --json | tr -d ' \n' | grep -o '"bytes":\[[^]]*\]' | head -c 200))" || kt_bad "$via1 has no byte count for home1: $(kith "$via1" exits --json)"

# A donor gives its uplink and nothing else.
kt_check "the donor itself reaches its LAN and the private address (controls)" kt_exec "$via1" sh -c 'ping -c1 -W1 198.18.9.2 && ping -c1 -W1 10.99.0.1'
kt_check "srv reaches the donor's service from the internet side (control)" kt_exec srv curl -s --max-time 2 "http://${WAN[$via1]}:8080/"
! kt_exec c1 ping -c2 -W1 198.18.9.2 >/dev/null 2>&1 && kt_ok "c1 cannot reach $via1's LAN (198.18.9.2)" || kt_bad "c1 reached $via1's LAN"
! kt_exec c1 ping -c2 -W1 10.99.0.1 >/dev/null 2>&1 && kt_ok "c1 cannot reach a private address behind $via1's WAN" || kt_bad "c1 reached 10.99.0.1"
! kt_exec c1 curl -s --max-time 2 "http://${WAN[$via1]}:8080/" >/dev/null && kt_ok "c1 cannot reach $via1's router service on its WAN address" || kt_bad "c1 reached ${WAN[$via1]}:8080"
! kt_exec home1 curl -s --max-time 2 "http://$(kt_ip "$via1"):8080/" >/dev/null && kt_ok "home1 cannot reach $via1's router service on its overlay address" || kt_bad "home1 reached $via1's service over the overlay"
# hub serves DNS on 53 (no config file), don2 on 5353 (a config file's default, dnsmasq beside it): the donor opens the port it serves.
dnsport=$([ "$via1" = hub ] && echo 53 || echo 5353)
a=$(kt_exec home1 dig +short +time=2 +tries=2 -p "$dnsport" @"$(kt_ip "$via1")" "$via1.demo.internal" A)
kt_check "home1 still queries $via1's overlay DNS resolver on port $dnsport: $a" test "$a" = "$(kt_ip "$via1")"

# Failover: home1's donor dies.
kt_stop_node "$via1" KILL
kt_exec "$via1" ip link del "$(kt_if "$via1")" 2>/dev/null
t0=$(date +%s%N); moved=""
for _ in $(seq 1 100); do
  [ "$(kx_fetch c1 0.5)" = "${WAN[$(other "$via1")]}" ] && { moved=$(( ($(date +%s%N) - t0) / 1000000 )); break; }
  sleep 0.1
done
if [ -z "$moved" ]; then kt_bad "c1 never went out through $(other "$via1") after $via1 died"
elif [ "$moved" -le 3000 ]; then kt_ok "after $via1 died, c1 was through $(other "$via1") in $moved ms (≤ 3000)"
else kt_bad "failover took $moved ms (> 3000)"; fi
[ "$via2" != "$via1" ] && [ "$(kx_via home2)" = "$via2" ] && [ "$(kx_fetch c2 2)" = "${WAN[$via2]}" ] \
  && kt_ok "home2 (a user of $via2) never moved" || kt_bad "home2 moved: via $(kx_via home2)"
[ "$KT_FAIL" = 0 ] || kx_dump
kt_summary exits
