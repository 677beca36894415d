#!/usr/bin/env bash
# Dual-stack homes behind IPv4 NATs that would defeat any punch (symmetric),
# each with a global IPv6 address behind its router's stateful IPv6 firewall
# (established and related in, nothing new from the internet), as home routers
# ship. The hub is IPv4 only. The homes advertise their IPv6 addresses and
# dial each other there: a direct path over IPv6 with no punch attempted, and
# the firewalls let it through because each side's own initiation opens its
# way for the other's.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
trap kt_cleanup EXIT
trap 'exit 130' INT TERM

KT_NAT_MODE=symmetric kt_topology
kt_dual_stack
kt_check "the routers' IPv6 firewalls drop what the internet starts (a ping to home1's IPv6 address)" \
  bash -c "! ip netns exec $(kt_ns inet) ping -6 -c1 -W1 2001:db8:1::2"
kt_check "home1 reaches home2's router over IPv6 (the routing works outward)" kt_exec home1 ping -6 -c1 -W2 2001:db8:2::1

for n in hub home1 home2; do kt_start_node $n; done
kt_three_join
for n in hub home1 home2; do kt_check "$n sees both other members" kt_wait 30 "$n converged" kt_converged $n 2; done
out=$(kith home1 status --json)
grep -q '"lan 2001:db8:1::2:' <<<"$out" && kt_ok "home1 advertises its global IPv6 address" || kt_bad "home1's endpoints: $(grep -A6 '"endpoints"' <<<"$out" | tr -d '\n ')"
if kt_wait 30 "home1 and home2 direct" kt_direct home1 home2; then
  kt_ok "home1 and home2 are direct to each other (both behind symmetric IPv4 NATs)"
else
  kt_bad "home1 ↔ home2: $(kt_path home1 home2) / $(kt_path home2 home1)"
fi
ep=$(kith home1 peers --json | node -e 'const p=JSON.parse(require("fs").readFileSync(0)).find(x=>x.name==="home2"); console.log(p && p.endpoint)')
[[ "$ep" == "[2001:db8:2::2]:"* ]] && kt_ok "home1 reaches home2 at its IPv6 address: $ep" || kt_bad "home1's endpoint for home2: $ep"
kt_exec home1 ping -c 20 -i 0.2 -W1 "$(kt_ip home2)" >"$KT_TMP/v6-ping.txt" 2>&1
got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$KT_TMP/v6-ping.txt")
[ "${got:-0}" -ge 19 ] && kt_ok "home1 pings home2 over the direct IPv6 path ($got/20)" || kt_bad "pings over IPv6: ${got:-0}/20"
if grep -q "punch: opening" "$KT_TMP"/home*.log; then kt_bad "a punch was attempted: $(grep -h 'punch: opening' "$KT_TMP"/home*.log | head -n2)"; else kt_ok "no punch was attempted between the homes"; fi
# The IPv4 public endpoint each home publishes still comes from the hub's view (IPv6 observations are not NAT mappings).
pub=$(kith home1 status --json)
grep -q '"public 198.51.100.1:' <<<"$pub" && kt_ok "home1 still publishes its IPv4 public endpoint as the hub sees it" || kt_bad "home1's endpoints: $(grep -A6 '"endpoints"' <<<"$pub" | tr -d '\n ')"
kt_summary ipv6.sh
