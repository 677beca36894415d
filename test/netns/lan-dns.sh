#!/usr/bin/env bash
# Names and LANs across the mesh: each home runs kithd from a UCI config file
# (DNS on 5353 behind dnsmasq, its LAN advertised as a subnet) and dnsmasq
# forwarding the zone to it. A LAN host resolves the other home's node and
# service through its own router's dnsmasq with dig, then reaches it; a LAN
# host reaches the other LAN host. SIGHUP applies a config change live.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
trap kt_cleanup EXIT
trap 'exit 130' INT TERM
command -v dnsmasq >/dev/null && command -v dig >/dev/null || { echo "lan-dns: FAIL: needs dnsmasq and dig (make deps)"; exit 1; }

kt_topology
kt_start_node hub
for i in 1 2; do
  cat >"$KT_TMP/home$i.uci" <<UCI
config kith 'main'
	option log_level 'info'

config dns 'dns'
	option port '5353'

config subnet
	option prefix '198.18.$i.0/24'

config service
	option name 'web'
	option port '8080'
	option type 'http'
UCI
  kt_start_node home$i --config "$KT_TMP/home$i.uci"
done
kith hub init demo --node-name hub --endpoint 192.0.2.1:51820 >/dev/null
for h in home1 home2; do kith $h join "$(kith hub invite --name $h | tail -n1)" >/dev/null 2>&1 || kt_bad "$h join"; done
kt_check "config file read: home1 reports listen port, dns on 5353" bash -c "KITH_STATE_DIR=$KT_TMP/home1 ip netns exec $(kt_ns home1) $(kt_kith_cmd) status --json | grep -q '\"127.0.0.1:5353\"'"
for i in 1 2; do
  # dnsmasq on the home node: the zone goes to kithd, rebind protection allows it.
  kt_spawn home$i "$KT_TMP/dnsmasq$i.log" dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces \
    --listen-address=198.18.$i.2 --port=53 --pid-file="$KT_TMP/dnsmasq$i.pid" --user=root \
    --server=/demo.internal/127.0.0.1#5353 --stop-dns-rebind --rebind-domain-ok=/demo.internal/
  # Kith runs on a Pi beside the home router here, so LAN hosts route the mesh to it.
  kt_exec lan$i ip route add 100.64.0.0/10 via 198.18.$i.2
  kt_exec lan$i ip route add 198.18.$((3 - i)).0/24 via 198.18.$i.2
done
for n in hub home1 home2; do kt_wait 30 "$n converged" kt_converged $n 2 || kt_bad "$n converged"; done
kt_wait 20 "home1 has a route to LAN 2" bash -c "ip netns exec $(kt_ns home1) ip route show table 7799 198.18.2.0/24 | grep -q proto" || kt_bad "route to LAN 2"

a=$(kt_exec lan1 dig +short +time=2 +tries=2 @198.18.1.2 home2.demo.internal A)
[ "$a" = "$(kt_ip home2)" ] && kt_ok "lan1 resolves home2.demo.internal through dnsmasq: $a" || kt_bad "lan1 dig home2: '$a'"
aaaa=$(kt_exec lan1 dig +short +time=2 @198.18.1.2 home2.demo.internal AAAA)
[[ "$aaaa" == fd* ]] && kt_ok "lan1 resolves the AAAA: $aaaa" || kt_bad "AAAA: '$aaaa'"
srv=$(kt_exec lan1 dig +short +time=2 @198.18.1.2 _http._tcp.web.home2.demo.internal SRV)
[ "$srv" = "0 0 8080 web.home2.demo.internal." ] && kt_ok "lan1 resolves home2's published service SRV: $srv" || kt_bad "SRV: '$srv'"
# Reachable within 10 s: a path that just became relayed first sets up its end-to-end session.
kt_check "lan1 reaches home2 at the resolved address" kt_wait 10 "lan1 → home2" kt_exec lan1 ping -c1 -W1 "$a"
kt_check "lan1 reaches the LAN host behind home2 (advertised subnet)" kt_wait 10 "lan1 → home2's LAN" kt_exec lan1 ping -c1 -W1 198.18.2.3
nx=$(kt_exec lan1 dig +time=2 @198.18.1.2 nobody.demo.internal A | grep -o 'status: [A-Z]*')
[ "$nx" = "status: NXDOMAIN" ] && kt_ok "unknown names are NXDOMAIN through dnsmasq" || kt_bad "nxdomain: $nx"

# SIGHUP: add a service in the file; it appears in DNS without a restart or a lost ping.
# First the paths settle (the homes' punch moves home1 ↔ home2 from the hub to a direct path).
kt_wait 30 "a direct path between the homes before the reload" kt_direct home1 home2 || { kt_bad "no direct path before the reload"; kt_diag_punch home1 home2; }
printf '\nconfig service\n\toption name %s\n\toption port %s\n' "'ssh'" "'22'" >>"$KT_TMP/home2.uci"
kt_exec home1 ping -i0.1 -c40 -W1 "$(kt_ip home2)" >"$KT_TMP/hup-ping.txt" 2>&1 &
pp=$!
kt_wait 10 "pings flowing before the reload" grep -q 'icmp_seq=5 ' "$KT_TMP/hup-ping.txt"
kill -HUP "$KT_PID_home2"
wait $pp
got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$KT_TMP/hup-ping.txt")
[ "${got:-0}" -ge 40 ] && kt_ok "SIGHUP reload kept the tunnel up ($got/40 pings)" || { kt_bad "SIGHUP reload lost pings ($got/40; missing icmp_seq: $(kt_missing_seqs "$KT_TMP/hup-ping.txt" 40))"; grep -E 'reload|path to|SIGHUP' "$KT_TMP/home1.log" "$KT_TMP/home2.log" >&2; }
kt_check "the new service resolves after reload" kt_wait 15 "ssh service" bash -c "[ -n \"\$(ip netns exec $(kt_ns lan1) dig +short @198.18.1.2 _ssh._tcp.ssh.home2.demo.internal SRV)\" ]"
printf '\nconfig kith main\n\toption listen_port banana\n' >>"$KT_TMP/home2.uci"
kill -HUP "$KT_PID_home2"
kt_check "a bad config on reload is reported with its line and the old one kept" kt_wait 10 "the reload error in home2's log" bash -c "grep -q 'listen_port' $KT_TMP/home2.log && grep -q 'keeping the running configuration' $KT_TMP/home2.log && ip netns exec $(kt_ns home1) ping -c1 -W2 $(kt_ip home2)"
out=$(kith home2 config check --file "$KT_TMP/home2.uci" 2>&1); code=$?
[ $code = 1 ] && grep -q "home2.uci:[0-9]*:.*listen_port" <<<"$out" && kt_ok "kith config check names the line: $(grep listen_port <<<"$out" | head -n1)" || kt_bad "config check: rc=$code $out"

kt_summary lan-dns.sh
