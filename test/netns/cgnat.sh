#!/usr/bin/env bash
# Carrier-grade NAT (NAT444): homes behind two NATs in a row.
#   home1 — nat1 (home router, cone) — cgn1 (carrier, cone)      — inet — hub (public)
#   home2 — nat2 (home router, cone)                             — inet
#   home3 — nat3 (home router, cone) — cgn2 (carrier, symmetric) — inet
# home1 and home2 reach a direct path: the hub sees home1 at the carrier's
# address, and the hole punch gets through both of home1's NATs (the opener's
# TTL grows by attempt until its initiations pass every NAT of its own).
# home3's carrier maps every destination to a new port, so home3 stays relayed
# to both homes, reachable all along, and `kith peers` says why.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
trap kt_cleanup EXIT
trap 'exit 130' INT TERM

[ -n "$KT_TMP" ] || KT_TMP=$(mktemp -d "${KT_TMP_PREFIX:-/tmp/kith-netns}.XXXXXX")
export TJS_HOME=$KT_TMP/tjs-home
for n in inet hub cgn1 nat1 home1 nat2 home2 cgn2 nat3 home3; do kt_addns $n; done
kt_exec inet sysctl -qw net.ipv4.ip_forward=1
# The simulated internet: the hub and cgn2 share 192.0.2.0/24 (a /25 each).
kt_link inet e-hub 192.0.2.126/25 hub wan 192.0.2.1/25
kt_link inet e-cgn2 192.0.2.254/25 cgn2 wan 192.0.2.129/25
kt_link inet e-cgn1 198.51.100.254/24 cgn1 wan 198.51.100.1/24
kt_link inet e-nat2 203.0.113.254/24 nat2 wan 203.0.113.1/24
kt_exec hub ip route add default via 192.0.2.126
kt_exec cgn2 ip route add default via 192.0.2.254
kt_exec cgn1 ip route add default via 198.51.100.254
kt_exec nat2 ip route add default via 203.0.113.254
# Carriers: a shared inside network (10.200.x.0/24) with one home router on it.
for c in 1 2; do
  n=$([ $c = 1 ] && echo 1 || echo 3)
  kt_link cgn$c inside 10.200.$n.1/24 nat$n wan 10.200.$n.2/24
  kt_exec nat$n ip route add default via 10.200.$n.1
  kt_exec cgn$c sysctl -qw net.ipv4.ip_forward=1
done
kt_nat cgn1 wan
kt_nat cgn2 wan symmetric
# Home routers: a LAN with the home node.
for n in 1 2 3; do
  kt_link nat$n lan 198.18.$n.1/24 home$n wan 198.18.$n.2/24
  kt_exec home$n ip route add default via 198.18.$n.1
  kt_exec nat$n sysctl -qw net.ipv4.ip_forward=1
  kt_nat nat$n wan
done
for l in e-hub e-cgn1 e-cgn2 e-nat2; do kt_exec inet tc qdisc add dev $l root netem delay "${KT_DELAY_MS}ms" 2>/dev/null || true; done

for n in hub home1 home2 home3; do kt_start_node $n || kt_bad "kithd $n did not start"; done
kith hub init demo --node-name hub --endpoint 192.0.2.1:51820 >/dev/null
for h in home1 home2 home3; do kith $h join "$(kith hub invite --name $h | tail -n1)" >/dev/null 2>&1 || kt_bad "$h join"; done
for n in hub home1 home2 home3; do kt_check "$n sees all three other members" kt_wait 40 "$n converged" kt_converged $n 3; done

# home1 is observed (by the hub) at its carrier's address, not its home router's.
public_of() { kith "$1" status --json | node -e 'const s = JSON.parse(require("fs").readFileSync(0)); console.log(s.node.endpoints.filter((e) => e.startsWith("public ")).map((e) => e.split(" ")[1]).join(","))'; }
has_public() { [ -n "$(public_of "$1")" ]; }
kt_wait 20 "home1's public endpoint" has_public home1 >/dev/null
pub1=$(public_of home1)
[ "${pub1%:*}" = 198.51.100.1 ] && kt_ok "home1's public endpoint is its carrier's address ($pub1)" || kt_bad "home1's public endpoint: '$pub1' (expected 198.51.100.1:port)"

# NAT444 with cone NATs: a direct path, through up to three attempts (TTL 2, 3, 4).
t0=$SECONDS
if kt_wait 150 "home1 ↔ home2 direct through NAT444" kt_direct home1 home2; then
  kt_ok "home1 (behind two NATs) and home2 reach a direct path ($((SECONDS - t0)) s after all joined; attempts: $(grep -c 'punch.*home2\|home2.*punch' "$KT_TMP/home1.log") punch log lines on home1)"
else
  kt_bad "home1 ↔ home2 still $(kt_path home1 home2) / $(kt_path home2 home1)"
  kt_diag_punch home1 home2
  { echo "conntrack cgn1:"; kt_exec cgn1 conntrack -L -p udp 2>/dev/null | sed 's/^/  /'; } >&2
fi
ip2=$(kt_ip home2)
kt_exec home1 ping -c 10 -i 0.2 -W1 "$ip2" >"$KT_TMP/direct-ping.txt" 2>&1
got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$KT_TMP/direct-ping.txt")
[ "${got:-0}" -ge 9 ] && kt_ok "home1 pings home2 on the direct path ($got/10)" || kt_bad "direct pings $got/10"
why=$(kith home1 peers --json | node -e 'const p = JSON.parse(require("fs").readFileSync(0)).find((x) => x.name === "home2"); console.log(p.whyNotDirect === undefined || p.whyNotDirect === null ? "none" : p.whyNotDirect)')
[ "$why" = none ] && kt_ok "kith peers gives no reason against a direct path it has" || kt_bad "whyNotDirect on a direct path: '$why'"

# A symmetric carrier: relayed, reachable, and a reason.
ip3=$(kt_ip home3)
for h in home1 home2; do
  p=$(kt_path $h home3)
  [ "$p" = "relayed via hub" ] && kt_ok "$h reaches home3 (behind a symmetric carrier NAT) relayed via hub" || kt_bad "$h → home3: $p"
  w=$(kith $h peers --json | node -e 'const p = JSON.parse(require("fs").readFileSync(0)).find((x) => x.name === "home3"); console.log(p.whyNotDirect || "")')
  grep -q "both behind NAT" <<<"$w" && kt_ok "$h says why home3 is not direct: $w" || kt_bad "$h whyNotDirect for home3: '$w'"
done
kt_exec home1 ping -c 10 -i 0.2 -W1 "$ip3" >"$KT_TMP/relayed-ping.txt" 2>&1
got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$KT_TMP/relayed-ping.txt")
[ "${got:-0}" -ge 9 ] && kt_ok "home1 pings home3 through the relay ($got/10)" || kt_bad "relayed pings to home3 $got/10"
kt_summary cgnat
