# The exit topology, on top of kt_topology (lib.sh): two public donors and a
# server on the simulated internet, a LAN client behind each home with
# clashing LANs, a LAN and a private address behind the donors. Sourced by
# exits.sh and bench/exit-failover.sh.
#
#   hub  192.0.2.1  donor A (100 Mbit/s), LAN 198.18.9.0/24 (hublan .2)
#   don2 192.0.2.2  donor B (50 Mbit/s),  LAN 198.18.9.0/24 (d2lan .2)
#   srv  192.0.2.80 HTTP server answering with the client's source address
#   10.99.0.1 on inet: a private address behind both donors' WAN
#   home1 / home2: LAN 198.19.5.0/24 each (the same), client c1 / c2 at .2
# inet answers ARP for the /32s it routes to don2 and srv (proxy ARP), so all
# share 192.0.2.0/24 with the hub.
SRV=192.0.2.80
declare -A WAN=([hub]=192.0.2.1 [don2]=192.0.2.2)

kx_topology() {
  kt_topology
  local n
  for n in don2 srv hublan d2lan c1 c2; do kt_addns $n; done
  kt_link inet e-don2 "" don2 wan 192.0.2.2/24
  kt_link inet e-srv "" srv wan $SRV/24
  kt_exec inet ip route add 192.0.2.2/32 dev e-don2
  kt_exec inet ip route add $SRV/32 dev e-srv
  for n in e-hub e-don2 e-srv; do kt_exec inet sysctl -qw net.ipv4.conf.$n.proxy_arp=1; done
  kt_exec inet ip addr add 10.99.0.1/32 dev lo
  for n in don2 srv; do kt_exec $n ip route add default via 192.0.2.254; done
  kt_link hub lan 198.18.9.1/24 hublan lan 198.18.9.2/24
  kt_link don2 lan 198.18.9.1/24 d2lan lan 198.18.9.2/24
  for n in hublan d2lan; do kt_exec $n ip route add default via 198.18.9.1; done
  for n in hub don2; do kt_exec $n ip route add 10.99.0.0/24 via 192.0.2.254; done
  for n in 1 2; do
    kt_link home$n cl 198.19.5.1/24 c$n lan 198.19.5.2/24
    kt_exec c$n ip route add default via 198.19.5.1
    kt_exec home$n sysctl -qw net.ipv4.ip_forward=1
  done
  kt_spawn srv "$KT_TMP/srv.log" node "$KT_ROOT/test/netns/echo-server.mjs" 8080
  # A service of each donor router that members must not reach.
  for n in hub don2; do kt_spawn $n "$KT_TMP/$n-svc.log" node "$KT_ROOT/test/netns/echo-server.mjs" 8080; done
}

# Starts kithd on hub, don2, home1, home2; hub founds "demo", the others join; both donors offer.
kx_mesh() {
  printf "config kith 'main'\n\tlist endpoint '192.0.2.2:51820'\n" >"$KT_TMP/don2.uci"
  kt_start_node hub; kt_start_node don2 --config "$KT_TMP/don2.uci"; kt_start_node home1; kt_start_node home2
  kith hub init demo --node-name hub --endpoint 192.0.2.1:51820 >/dev/null
  local n
  for n in don2 home1 home2; do kith $n join "$(kith hub invite --name $n | tail -n1)" >/dev/null 2>&1 || kt_bad "$n joins"; done
  for n in hub don2 home1 home2; do kt_wait 60 "$n converged" kt_converged $n 3 || kt_bad "$n sees the 3 others"; done
  kith hub exit offer --capacity-mbit 100 >/dev/null || kt_bad "hub offers an exit"
  kith don2 exit offer --capacity-mbit 50 >/dev/null || kt_bad "don2 offers an exit"
}

# The donor node $1 sends its LAN's exit traffic through ("" if none).
kx_via() { kith "$1" status --json 2>/dev/null | node -e 'try { const s = JSON.parse(require("fs").readFileSync(0)); console.log(s.exit && s.exit.via || ""); } catch { console.log(""); }'; }
# What the server saw as the source of one fetch from namespace $1 (empty on failure).
kx_fetch() { kt_exec "$1" curl -s --max-time "${2:-1}" "http://$SRV:8080/" 2>/dev/null; }
# Whether node $1 has chosen an exit / chosen node $2.
kx_has_via() { [ -n "$(kx_via "$1")" ]; }
kx_via_is() { [ "$(kx_via "$1")" = "$2" ]; }
# The server saw node $2's WAN address in a fetch from namespace $1 (false for an unknown donor).
kx_fetch_via() { [ -n "$2" ] && [ -n "${WAN[$2]:-}" ] && [ "$(kx_fetch "$1")" = "${WAN[$2]}" ]; }
# What a failure needs: each node's exit status and offers, the donors' nftables, the users' rules and exit table.
kx_dump() {
  local n
  for n in hub don2 home1 home2; do
    echo "--- $n: kith status --json (exit) / kith exits --json"
    kith $n status --json 2>&1 | grep -A7 '"exit"'
    kith $n exits --json 2>&1 | head -c 1500; echo
    echo "--- $n: kith status --json (whole: record counters and rejections)"; kith $n status --json 2>&1 | tr -d ' \n' | head -c 3000; echo
  done
  for n in hub don2; do echo "--- $n: nft list ruleset"; kt_exec $n nft list ruleset 2>&1 | head -80; done
  for n in home1 home2; do
    echo "--- $n: ip rule / table 7798 / nft"
    kt_exec $n ip -4 rule show; kt_exec $n ip -4 route show table 7798; kt_exec $n nft list ruleset 2>&1 | head -30
  done
}
