#!/usr/bin/env bash
# Plain WireGuard clients in the three-node topology: the hub mints a wg-quick
# config (`kith client add phone`); a client namespace on the simulated
# internet with nothing but wireguard-go, wg and ip brings it up from that
# config, pings home1 (another member: routed through the mesh by the hub) and
# resolves a member's name through the hub's resolver. Bad input changes
# nothing; `kith client rm` takes the client out of every member within 10 s.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
CIF=$(kt_if cli)  # the client's WireGuard interface: unique to this run (wireguard-go's socket is shared)
cleanup() { rm -f "/var/run/wireguard/$CIF.sock"; kt_cleanup; }
trap cleanup EXIT
trap 'exit 130' INT TERM
LIMIT_S=10
json() { node -e "const v=JSON.parse(require('fs').readFileSync(0,'utf8')); const r=($1); console.log(typeof r==='object' ? JSON.stringify(r) : r)"; }

kt_demo_mesh
for n in hub home1 home2; do kt_check "$n sees both other members" kt_wait 30 "$n converged" kt_converged $n 2; done
declare -A IP
for n in hub home1 home2; do IP[$n]=$(kt_ip $n); done
DNSPORT=$(kith hub status --json | sed -n 's/.*"127\.0\.0\.1:\([0-9]*\)".*/\1/p' | head -n1)

# The client: 192.0.2.100 on its own link to the core (the core answers ARP for it on the hub's link).
kt_addns cli
kt_link inet e-cli "" cli wan 192.0.2.100/32
kt_exec inet ip route add 192.0.2.100/32 dev e-cli
kt_exec inet sysctl -qw net.ipv4.conf.e-hub.proxy_arp=1
kt_exec cli ip route add 192.0.2.254/32 dev wan
kt_exec cli ip route add default via 192.0.2.254

# --- minting the config ------------------------------------------------------
conf=$(kith hub client add phone); rc=$?
field() { sed -n "s/^$1 = //p" <<<"$conf"; }
if [ $rc = 0 ] && [ -n "$(field PrivateKey)" ]; then kt_ok "kith client add prints a config"; else kt_bad "client add: rc=$rc $conf"; fi
ADDR=$(field Address | sed 's|/32,.*||'); ADDR6=$(field Address | sed 's|.*, ||; s|/128||')
kt_check "the address is in the hub's client block 100.66.0.16/28: $ADDR" grep -qE '^100\.66\.0\.(1[6-9]|2[0-9]|3[01])$' <<<"$ADDR"
kt_check "DNS is the hub's overlay address: $(field DNS)" test "$(field DNS)" = "${IP[hub]}"
kt_check "Endpoint is the hub's configured endpoint: $(field Endpoint)" test "$(field Endpoint)" = 192.0.2.1:51820
kt_check "AllowedIPs is the overlay: $(field AllowedIPs)" grep -qE '^100\.64\.0\.0/10, fd[0-9a-f:]+::/48$' <<<"$(field AllowedIPs)"
kt_check "PersistentKeepalive = 25" test "$(field PersistentKeepalive)" = 25
kt_check "the private key is nowhere in the hub's state or log" bash -c "! grep -rqF -- '$(field PrivateKey)' '$KT_TMP/hub' '$KT_TMP/hub.log'"
exitconf=$(kith hub client add laptop --exit)
kt_check "--exit: AllowedIPs everything" grep -qx 'AllowedIPs = 0.0.0.0/0, ::/0' <<<"$exitconf"
qr=$(kith hub client add tablet --qr)
kt_check "--qr draws a QR code before the config" bash -c "head -n1 <<<'$(head -n1 <<<"$qr")' | grep -q '█'"

# --- bad input: a one-line error, nothing changes -------------------------------
count() { kith hub clients --json | json 'v.length'; }
before=$(count)
out=$(kith hub client add phone 2>&1); rc=$?
if [ $rc = 1 ] && [ "$(wc -l <<<"$out")" = 1 ] && grep -q 'exists' <<<"$out"; then kt_ok "a taken name: $out"; else kt_bad "duplicate: rc=$rc $out"; fi
out=$(kith hub client add Bad_Name 2>&1); rc=$?
if [ $rc = 2 ] && [ "$(wc -l <<<"$out")" = 1 ] && grep -q 'invalid client name' <<<"$out"; then kt_ok "an invalid name: $out"; else kt_bad "invalid name: rc=$rc $out"; fi
out=$(kith hub client rm nosuch 2>&1); rc=$?
if [ $rc = 1 ] && grep -q 'no client "nosuch"' <<<"$out"; then kt_ok "removing an unknown client: $out"; else kt_bad "rm nosuch: rc=$rc $out"; fi
kt_check "bad input changed nothing ($before clients)" test "$(count)" = "$before"

# --- the client comes up from the printed config alone -----------------------------
kt_exec cli wireguard-go "$CIF" >/dev/null 2>&1
grep -vE '^(Address|DNS) = ' <<<"$conf" >"$KT_TMP/cli.conf"  # wg-quick's own lines; wg setconf takes the rest
kt_check "wg setconf takes the config" kt_exec cli wg setconf "$CIF" "$KT_TMP/cli.conf"
kt_exec cli ip addr add "$ADDR/32" dev "$CIF"
kt_exec cli ip addr add "$ADDR6/128" dev "$CIF"
kt_exec cli ip link set "$CIF" up
for r in $(field AllowedIPs | tr -d ','); do kt_exec cli ip route add "$r" dev "$CIF"; done
kt_check "home1 routes $ADDR to the hub" kt_wait 20 "home1's hub peer with $ADDR" bash -c "ip netns exec $(kt_ns home1) wg show $(kt_if home1) allowed-ips | grep -q '$ADDR/32'"
kt_check "the client pings home1 (${IP[home1]}) through the hub" kt_wait 20 "client → home1" kt_exec cli ping -c1 -W2 "${IP[home1]}"
kt_check "the client pings home2 (${IP[home2]}) through the hub" kt_wait 20 "client → home2" kt_exec cli ping -c1 -W2 "${IP[home2]}"
kt_check "home2 pings the client back" kt_wait 10 "home2 → client" kt_exec home2 ping -c1 -W2 "$ADDR"
a=$(kt_exec cli dig +short +time=2 +tries=2 -p "$DNSPORT" @"$(field DNS)" home1.demo.internal A)
kt_check "the client resolves home1.demo.internal through the hub's resolver: $a" test "$a" = "${IP[home1]}"
hs=$(kith hub clients --json | json 'v.find((c) => c.name === "phone").lastHandshakeSec')
kt_check "kith clients shows the phone's handshake (${hs}s ago)" grep -qE '^[0-9]+$' <<<"$hs"

# --- restart: the clients are durable ---------------------------------------------
kt_stop_node hub
kt_start_node hub
kt_check "after a restart the hub still has 3 clients" test "$(count)" = 3
kt_check "after a restart the client still pings home1" kt_wait 20 "client → home1 after restart" kt_exec cli ping -c1 -W2 "${IP[home1]}"

# --- removal: gone everywhere within LIMIT_S ---------------------------------------
start=$(date +%s%N)
kt_check "kith client rm phone" kith hub client rm phone
gone() {
  ! kt_exec hub wg show "$(kt_if hub)" allowed-ips | grep -q "$ADDR/32" &&
  ! kt_exec home1 wg show "$(kt_if home1)" allowed-ips | grep -q "$ADDR/32" &&
  ! kt_exec home2 wg show "$(kt_if home2)" allowed-ips | grep -q "$ADDR/32"
}
if kt_wait $LIMIT_S "the phone's address gone from every member" gone; then
  kt_ok "removed from every member's WireGuard in $(( ($(date +%s%N) - start) / 1000000 )) ms"
else
  kt_bad "the phone's address is still somewhere"
  for n in hub home1 home2; do kt_log "$n: $(kt_exec $n wg show "$(kt_if $n)" allowed-ips | grep -F "$ADDR/32" | cut -c1-12)… $(kith $n status --json | grep -c '"clients"')"; done
  for n in home1 home2; do kt_log "$n records:"; "$KT_ROOT/node_modules/.bin/tsx" "$KT_ROOT/test/netns/tool.ts" dump "$KT_TMP/$n/run/records.json" 2>&1 | grep -i hub >&2; done
fi
kt_check "the removed client no longer reaches home1" bash -c "! ip netns exec $(kt_ns cli) ping -c2 -W1 ${IP[home1]}"
kt_check "kith clients no longer lists it" bash -c "! KITH_STATE_DIR=$KT_TMP/hub ip netns exec $(kt_ns hub) $(kt_kith_cmd) clients | grep -q phone"

kt_summary clients
