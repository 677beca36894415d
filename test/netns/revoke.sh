#!/usr/bin/env bash
# Revocation in the three-node topology: the founder (hub) revokes home2;
# within 10 s (measured) home2 loses every path (pings by overlay address
# fail both ways, its name no longer resolves), it stays out after each
# kithd restarts, and its comeback records are dropped and counted.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
trap kt_cleanup EXIT
trap 'exit 130' INT TERM
TSX="$KT_ROOT/node_modules/.bin/tsx"
LIMIT_S=10
json() { node -e "const v=JSON.parse(require('fs').readFileSync(0,'utf8')); const r=($1); console.log(typeof r==='object' ? JSON.stringify(r) : r)"; }

kt_demo_mesh
for n in hub home1 home2; do kt_check "$n sees both other members" kt_wait 30 "$n converged" kt_converged $n 2; done
declare -A IP DNSPORT
for n in hub home1 home2; do
  IP[$n]=$(kt_ip $n)
  DNSPORT[$n]=$(kith $n status --json | sed -n 's/.*"127\.0\.0\.1:\([0-9]*\)".*/\1/p' | head -n1)
done
resolves() { [ -n "$(kt_exec "$1" dig +short +time=1 +tries=1 -p "${DNSPORT[$1]}" @127.0.0.1 "$2.demo.internal" A)" ]; }
for a in hub home1; do
  kt_check "$a pings home2 before the revocation" kt_wait 10 "$a → home2" kt_exec $a ping -c1 -W1 "${IP[home2]}"
  kt_check "$a resolves home2.demo.internal before the revocation" kt_wait 10 "$a resolves home2" resolves $a home2
done

# --- bad input changes nothing ------------------------------------------------
out=$(kith home1 revoke hub 2>&1); rc=$?
if [ $rc = 1 ] && grep -q founder <<<"$out" && [ "$(wc -l <<<"$out")" = 1 ]; then kt_ok "a member cannot revoke the founder: $out"; else kt_bad "home1 revoke hub: rc=$rc $out"; fi
out=$(kith home1 revoke home2 2>&1); rc=$?
if [ $rc = 1 ] && grep -q 'only the founder, an admin' <<<"$out"; then kt_ok "a non-admin cannot revoke a member it did not admit: $out"; else kt_bad "home1 revoke home2: rc=$rc $out"; fi
out=$(kith hub revoke nobody 2>&1); rc=$?
if [ $rc = 1 ] && grep -q 'no member "nobody"' <<<"$out"; then kt_ok "an unknown node: $out"; else kt_bad "hub revoke nobody: rc=$rc $out"; fi
out=$(kith hub revoke hub 2>&1); rc=$?
if [ $rc = 1 ] && grep -q 'cannot revoke itself' <<<"$out"; then kt_ok "revoking oneself: $out"; else kt_bad "hub revoke hub: rc=$rc $out"; fi
kt_check "bad input revoked nothing" bash -c "[ \"\$(KITH_STATE_DIR=$KT_TMP/hub ip netns exec $(kt_ns hub) $(kt_kith_cmd) status --json | node -e 'console.log(JSON.parse(require(\"fs\").readFileSync(0)).revocations)')\" = 0 ]"
out=$(kith hub revoke home2 --dry-run); kt_check "a dry run says what it would do: $out" grep -q 'would revoke home2' <<<"$out"

# --- the revocation and its propagation, measured -----------------------------
gone() { # every path between home2 and the others is down, and its name does not resolve
  local a
  for a in hub home1; do
    ! kt_exec $a ping -c1 -W1 "${IP[home2]}" >/dev/null 2>&1 || return 1
    ! kt_exec home2 ping -c1 -W1 "${IP[$a]}" >/dev/null 2>&1 || return 1
    ! resolves $a home2 || return 1
    [ "$(kt_path $a home2)" = none ] || return 1
  done
}
WG2=$(kith home2 status --json | json 'v.node.wgPublicKey')
nopeer() { local i; for i in "$(kt_if $1)" "$(kt_if $1 | cut -c1-14)e"; do ! grep -qF -- "$WG2" <<<"$(kt_exec $1 wg show "$i" peers 2>/dev/null)" || return 1; done; }
t0=$(date +%s.%N)
out=$(kith hub revoke home2); rc=$?
kt_check "kith hub revoke home2: $out" test $rc = 0
# Each condition's first time, polled in turn (hub and home1: no WireGuard peer for home2, no path to it).
declare -A AT
for _ in $(seq 1 $((LIMIT_S * 20))); do
  now=$(date +%s.%N)
  for a in hub home1; do
    [ -n "${AT[$a-peer]:-}" ] || { nopeer $a && AT[$a-peer]=$(node -e "console.log(($now - $t0).toFixed(2))"); }
    [ -n "${AT[$a-path]:-}" ] || { [ "$(kt_path $a home2)" = none ] && AT[$a-path]=$(node -e "console.log(($now - $t0).toFixed(2))"); }
  done
  [ ${#AT[@]} = 4 ] && break
  node -e "process.exit(Date.now() / 1000 - $t0 > $LIMIT_S + 5 ? 0 : 1)" && break
  sleep 0.1
done
echo "  after kith revoke: hub peer gone ${AT[hub-peer]:-never} s, path ${AT[hub-path]:-never} s; home1 peer gone ${AT[home1-peer]:-never} s, path ${AT[home1-path]:-never} s"
took=$(printf '%s\n' "${AT[@]}" | sort -g | tail -n1)
if [ ${#AT[@]} = 4 ] && node -e "process.exit(Number('$took') <= $LIMIT_S ? 0 : 1)"; then kt_ok "hub and home1 dropped home2's WireGuard peers and paths ${took} s after kith revoke (limit ${LIMIT_S} s)"
else kt_bad "home2's peers or paths were not all dropped within ${LIMIT_S} s"; fi
echo "  revocation-propagation-s $KT_RUNTIME ${took:-none}"
if gone; then took=$(node -e "console.log(((Date.now() / 1000) - $t0).toFixed(2))"); kt_ok "home2 has lost every path: pings fail both ways, its name does not resolve (checked by ${took} s)"
else kt_bad "home2 still has a path or a name after its peers were dropped"; fi
for n in hub home1; do
  kt_check "$n persisted the revocation in state.json" bash -c "node -e 'const s=JSON.parse(require(\"fs\").readFileSync(process.argv[1])); process.exit((s.membership.revocations||[]).length===1?0:1)' $KT_TMP/$n/state.json"
done
kt_check "hub and home1 still reach each other" kt_exec hub ping -c1 -W2 "${IP[home1]}"

# --- every kithd restarts: home2 stays out -------------------------------------
for n in hub home1 home2; do
  kt_stop_node $n TERM
  kt_start_node $n
  sleep 3
  if gone; then kt_ok "after $n's kithd restarted, home2 is still out"; else kt_bad "after $n's restart home2 has a path again"; fi
done
kt_check "hub and home1 reach each other after the restarts" kt_wait 15 "hub → home1" kt_exec hub ping -c1 -W1 "${IP[home1]}"

# --- home2's comeback records, forwarded by a member, are dropped and counted -
before=$(kith hub status --json | json 'v.dropped.revoked')
kt_exec home1 "$TSX" "$KT_ROOT/test/netns/tool.ts" comeback "$KT_TMP/home2" "${IP[home1]}" "${IP[hub]}" 51821
counted() { [ "$(kith hub status --json | json 'v.dropped.revoked')" -gt "$before" ]; }
if kt_wait 10 "the hub to count home2's comeback" counted; then kt_ok "home2's comeback record is dropped and counted (revoked $before → $(kith hub status --json | json 'v.dropped.revoked'))"
else kt_bad "home2's comeback record was not counted"; fi
kt_check "the comeback changed nothing: the hub sees one member" bash -c "[ \"\$(KITH_STATE_DIR=$KT_TMP/hub ip netns exec $(kt_ns hub) $(kt_kith_cmd) status --json | node -e 'console.log(JSON.parse(require(\"fs\").readFileSync(0)).peers)')\" = 1 ]"
kt_check "home2 is still unreachable" gone

kt_summary revoke.sh
