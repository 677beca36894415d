#!/usr/bin/env bash
# Routes that cannot hurt the host. The founder (hub) has a LAN of its own
# (198.18.9.0/24, a host at .2). A hostile member (home1, its kithd stopped,
# its key re-signing its record) advertises 0.0.0.0/0, the founder's LAN, a
# subnet with host bits set and its real LAN. The founder keeps its default
# route and its main table unchanged, its LAN host still reaches it, nothing
# of the hostile prefixes is routed, it stays "running" and shows each
# refusal; the real LAN and an honest member's LAN (home2, from its config)
# are routed through Kith's own table. A config check names a subnet in the
# network's pool.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
trap kt_cleanup EXIT
trap 'exit 130' INT TERM
TSX="$KT_ROOT/node_modules/.bin/tsx"
TABLE=7799

kt_topology
kt_addns hublan
kt_link hub lan 198.18.9.1/24 hublan lan 198.18.9.2/24
kt_exec hublan ip route add default via 198.18.9.1
cat >"$KT_TMP/home2.uci" <<UCI
config kith 'main'
	option log_level 'info'

config subnet
	option prefix '198.18.2.0/24'
UCI
kt_start_node hub
kt_start_node home1
kt_start_node home2 --config "$KT_TMP/home2.uci"
kith hub init demo --node-name hub --endpoint 192.0.2.1:51820 >/dev/null
for h in home1 home2; do kith $h join "$(kith hub invite --name $h | tail -n1)" >/dev/null 2>&1 || kt_bad "$h join"; done
for n in hub home1 home2; do kt_wait 30 "$n converged" kt_converged $n 2 || kt_bad "$n converged"; done
hubip=$(kt_ip hub)
# Kith's own end-to-end host routes (proto 78) come and go with paths; the rest of main must not move.
main_table() { kt_exec hub ip -4 route show table main | grep -v ' proto 78 '; }
main_before=$(main_table)
default_before=$(kt_exec hub ip route show default)

# An honest member's LAN goes into Kith's table, and is reached through it.
in_table() { grep -q "^$2 dev " <<<"$(kt_exec "$1" ip route show table $TABLE)"; }
kt_wait 20 "hub routes LAN 2 in table $TABLE" in_table hub 198.18.2.0/24 || kt_bad "no route to LAN 2 in table $TABLE: $(kt_exec hub ip route show table all proto 77 | tr '\n' ';')"
kt_exec lan2 ip route add 100.64.0.0/10 via 198.18.2.2
kt_check "the hub reaches the host on home2's LAN (198.18.2.3)" kt_exec hub ping -c2 -i0.2 -W2 198.18.2.3
kt_check "... looked up in Kith's table $TABLE" bash -c "ip netns exec $(kt_ns hub) ip route get 198.18.2.3 | grep -q 'table $TABLE'"
rules=$(kt_exec hub ip rule show)
grep -q "^32700:.*lookup main suppress_prefixlength 0" <<<"$rules" && grep -q "^32701:.*lookup $TABLE" <<<"$rules" \
  && kt_ok "rules: main without its default route (32700), then Kith's table (32701)" || kt_bad "rules: $(tr '\n' ';' <<<"$rules")"

# The hostile member.
kt_stop_node home1
kt_exec home1 "$TSX" "$KT_ROOT/test/netns/tool.ts" advertise "$KT_TMP/home1" "$hubip" 51821 0.0.0.0/0 198.18.9.0/24 10.1.2.3/8 198.18.1.0/24 \
  || kt_bad "could not send the hostile record"
refusal() { kith "$1" status --json | node -e 'const s = JSON.parse(require("fs").readFileSync(0)); for (const r of s.routes.refused) console.log(`${r.node} ${r.prefix}: ${r.reason}`)'; }
has_refusal() { grep -q "^home1 $2: .*$3" <<<"$(refusal "$1")"; }
if kt_wait 30 "the hub refuses 0.0.0.0/0 from home1" has_refusal hub 0.0.0.0/0 "shorter than /8"; then kt_ok "the hub refuses 0.0.0.0/0 from home1"
else
  kt_bad "the hub refuses 0.0.0.0/0 from home1: it refuses $(refusal hub | tr '\n' ';')"
  { echo "hub peers: $(kith hub peers | tr '\n' ';')"; echo "hub dropped: $(kith hub status --json | grep -A14 '"dropped"' | tr -d ' \n')"
    "$TSX" "$KT_ROOT/test/netns/tool.ts" dump "$KT_TMP/hub/run/records.json"; kt_exec hub wg show "$(kt_if hub)" allowed-ips; } >&2
fi
kt_check "the hub refuses its own LAN 198.18.9.0/24 from home1" has_refusal hub 198.18.9.0/24 "own network 198.18.9.0/24"
kt_check "the hub refuses 10.1.2.3/8 (host bits set)" has_refusal hub 10.1.2.3/8 "host bits are set"
kt_log "  hub refusals: $(refusal hub | tr '\n' ';')"
kt_wait 20 "hub routes home1's real LAN" in_table hub 198.18.1.0/24 && kt_ok "home1's real LAN 198.18.1.0/24 is routed in Kith's table" || kt_bad "198.18.1.0/24 not routed"
[ "$(kt_exec hub ip route show default)" = "$default_before" ] && kt_ok "the hub's default route is unchanged: $default_before" || kt_bad "default route now: $(kt_exec hub ip route show default)"
main_after=$(main_table)
[ "$main_after" = "$main_before" ] && kt_ok "the hub's main table is unchanged" || kt_bad "main table changed: $(diff <(echo "$main_before") <(echo "$main_after") | tr '\n' ';')"
bad=$(kt_exec hub ip route show table all proto 77 | grep -E '^(default|0\.0\.0\.0|198\.18\.9\.|10\.)' || true)
[ -z "$bad" ] && kt_ok "no Kith route for any refused prefix, in any table" || kt_bad "refused prefixes routed: $bad"
kt_check "the hub's LAN host still reaches the hub" kt_exec hublan ping -c3 -i0.2 -W2 198.18.9.1
kt_check "the hub still reaches its LAN host" kt_exec hub ping -c2 -i0.2 -W2 198.18.9.2
kt_check "the internet still goes out the hub's WAN" bash -c "ip netns exec $(kt_ns hub) ip route get 203.0.113.200 | grep -q 'dev wan'"
state=$(kith hub status --json | sed -n 's/^  "state": "\([a-z]*\)".*/\1/p')
[ "$state" = running ] && kt_ok "the hub stays running" || kt_bad "hub state: $state"
grep -q "^refused  home1 0.0.0.0/0: shorter than /8" <<<"$(kith hub status)" && kt_ok "kith status lists the refusals" || kt_bad "kith status: $(kith hub status | tr '\n' ';')"
# Connected networks are each node's own: home2 has no 198.18.9.0/24, so home1 keeps it there.
kt_wait 20 "home2 routes 198.18.9.0/24" in_table home2 198.18.9.0/24 && kt_ok "home2 (no such LAN of its own) routes 198.18.9.0/24 to home1" || kt_bad "home2: $(kt_exec home2 ip route show table $TABLE | tr '\n' ';')"
kt_check "home2 refuses 0.0.0.0/0 too" has_refusal home2 0.0.0.0/0 "shorter than /8"

# A config check through the running kithd knows the network's pool.
printf "config subnet\n\toption prefix '100.64.7.0/24'\n" >"$KT_TMP/pool.uci"
out=$(kith hub config check --file "$KT_TMP/pool.uci" 2>&1); code=$?
[ $code = 1 ] && grep -qF 'pool.uci:2: section "pool.uci.@subnet[0]" option "prefix": 100.64.7.0/24 cannot be advertised: overlaps the network'"'"'s IPv4 pool 100.64.0.0/10' <<<"$out" \
  && kt_ok "kith config check refuses a subnet in the pool: $(grep pool.uci <<<"$out")" || kt_bad "config check: rc=$code $out"

kt_summary routes.sh
