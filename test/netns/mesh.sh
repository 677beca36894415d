#!/usr/bin/env bash
# Three-node mesh behind NAT: joining, pings, restart without loss, invite
# refusals, forged records, SIGKILL during saves, key hygiene.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
trap kt_cleanup EXIT
trap 'exit 130' INT TERM
TSX="$KT_ROOT/node_modules/.bin/tsx"
json() { node -e "const v=JSON.parse(require('fs').readFileSync(0,'utf8')); const r=($1); if(typeof r==='object') console.log(JSON.stringify(r)); else console.log(r)"; }

# --- the three-node scenario ------------------------------------------------
kt_demo_mesh
cp "$KT_TMP/home1/run/records.json" "$KT_TMP/early-records.json" 2>/dev/null || echo '[]' >"$KT_TMP/early-records.json"
kt_three_converge
kt_check "peers --json has the documented fields" bash -c "KITH_STATE_DIR=$KT_TMP/home1 ip netns exec $(kt_ns home1) $(kt_kith_cmd) peers --json | node -e 'const p=JSON.parse(require(\"fs\").readFileSync(0)); const k=[\"name\",\"ipv4\",\"ipv6\",\"path\",\"via\",\"endpoint\",\"rttMs\",\"lastHandshakeSec\",\"rxBytes\",\"txBytes\"]; process.exit(p.length===2 && p.every(x=>k.every(f=>f in x))?0:1)'"
st=$(kith home1 status --json)
kt_check "status --json names node, network and drop counters" bash -c "node -e 'const s=JSON.parse(process.argv[1]); process.exit(s.node.name===\"home1\" && /^100\\./.test(s.node.ipv4) && /^fd/.test(s.node.ipv6) && s.network.name===\"demo\" && s.network.zone===\"demo.internal\" && typeof s.dropped.badSignature===\"number\"?0:1)' '$st'"

# --- restart without interrupting traffic ------------------------------------
kt_exec home1 ping -i0.1 -c100 -W1 "${IP[home2]}" >"$KT_TMP/restart-ping.txt" 2>&1 &
pingpid=$!
kt_wait 10 "pings flowing before the restart" grep -q 'icmp_seq=10 ' "$KT_TMP/restart-ping.txt"
kt_stop_node home1 TERM
kt_start_node home1
wait $pingpid
lost=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$KT_TMP/restart-ping.txt"); lost=$((100 - ${lost:-0}))
if [ "$lost" -le 2 ]; then kt_ok "restart of kithd on home1 lost $lost of 100 pings"
else kt_bad "restart of kithd on home1 lost $lost of 100 pings (max 2); missing icmp_seq: $(kt_missing_seqs "$KT_TMP/restart-ping.txt" 100)"; fi
kt_check "home1 re-converges after restart" kt_wait 30 "home1 converged" kt_converged home1 2

# --- invites refused ---------------------------------------------------------
kt_start_node lan2
used=$(kith hub invite --name reuse | tail -n1)
kith lan2 join "$used" >/dev/null 2>&1
kt_start_node lan1
out=$(kith lan1 join "$used" 2>&1); code=$?
if [ $code = 1 ] && grep -q 'already used' <<<"$out" && [ "$(wc -l <<<"$out" | tr -d ' ')" -ge 1 ]; then kt_ok "an invite used twice is refused: $(tail -n1 <<<"$out")"; else kt_bad "invite reuse: rc=$code $out"; fi
exp=$(kith hub invite --expires 1s | tail -n1); sleep 2
out=$(kith lan1 join "$exp" 2>&1); code=$?
if [ $code = 1 ] && grep -q 'expired' <<<"$out"; then kt_ok "an expired invite is refused: $(tail -n1 <<<"$out")"; else kt_bad "expired invite: rc=$code $out"; fi
fresh=$(kith hub invite | tail -n1)
out=$(kith lan1 join "${fresh:0:40}" 2>&1); code=$?
if [ $code = 1 ] && grep -q 'invalid invite code' <<<"$out"; then kt_ok "a truncated code is refused: $(tail -n1 <<<"$out")"; else kt_bad "truncated code: rc=$code $out"; fi
alt="${fresh:0:20}$( [ "${fresh:20:1}" = a ] && echo b || echo a )${fresh:21}"
out=$(kith lan1 join "$alt" 2>&1); code=$?
if [ $code = 1 ] && grep -q 'checksum' <<<"$out"; then kt_ok "an altered code is refused: $(tail -n1 <<<"$out")"; else kt_bad "altered code: rc=$code $out"; fi
# A second network, founded in the LAN host lan1; its invite re-targeted at the hub.
other=$(mktemp -d "$KT_TMP/other.XXXX"); mkdir -p "$other"
ip netns exec "$(kt_ns lan1)" env KITH_STATE_DIR=$other $(kt_kithd_cmd) --ifname "$(kt_if oth)" --listen-port 51999 >"$KT_TMP/other.log" 2>&1 &
KT_PIDS+=($!); disown $!; KT_NODES+=(oth)
kt_wait 10 "other kithd" test -S "$other/kithd.sock"
KITH_STATE_DIR=$other kt_exec lan1 $(kt_kith_cmd) init elsewhere --endpoint 198.18.1.3:51999 >/dev/null
ocode=$(KITH_STATE_DIR=$other kt_exec lan1 $(kt_kith_cmd) invite | tail -n1)
forged=$("$TSX" "$KT_ROOT/test/netns/tool.ts" recode "$ocode" 192.0.2.1 51820)
out=$(kith lan1 join "$forged" 2>&1); code=$?
# The refusal is generic: a scanner learns neither the network's name nor why.
if [ $code = 1 ] && grep -q 'not valid here' <<<"$out" && ! grep -q 'demo' <<<"$out"; then kt_ok "a code of another network is refused without naming the network: $(tail -n1 <<<"$out")"; else kt_bad "other network: rc=$code $out"; fi
out=$(kith home1 join "$ocode" 2>&1); code=$?
if [ $code = 1 ] && grep -q 'already a member' <<<"$out"; then kt_ok "a member refuses another network's code: $(tail -n1 <<<"$out")"; else kt_bad "member + other code: rc=$code $out"; fi
kt_check "lan1 was not admitted" bash -c "! KITH_STATE_DIR=$KT_TMP/lan1 ip netns exec $(kt_ns lan1) $(kt_kith_cmd) status --json | grep -q '\"network\": {'"
kt_check "hub kept running and admitted only the first user of each invite" bash -c "KITH_STATE_DIR=$KT_TMP/hub ip netns exec $(kt_ns hub) $(kt_kith_cmd) invites --json | node -e 'const l=JSON.parse(require(\"fs\").readFileSync(0)); process.exit(l.filter(i=>i.usedBy).map(i=>i.usedBy).sort().join()===\"home1,home2,reuse\"?0:1)'"

# --- forged and replayed records ---------------------------------------------
before=$(kith hub status --json)
cp "$KT_TMP/home1/run/records.json" "$KT_TMP/now-records.json"
for mode in badsig unknown oversize malformed; do
  kt_exec home1 "$TSX" "$KT_ROOT/test/netns/tool.ts" forge $mode "$KT_TMP/now-records.json" home2 "${IP[hub]}" 51821
done
kt_exec home1 "$TSX" "$KT_ROOT/test/netns/tool.ts" forge stale "$KT_TMP/early-records.json" home1 "${IP[hub]}" 51821
counted() { local a; a=$(kith hub status --json) || return 1; for c in badSignature unknownSigner oversize malformed stale; do [ "$(json "v.dropped.$c" <<<"$a")" -gt "$(json "v.dropped.$c" <<<"$before")" ] || return 1; done; }
kt_wait 10 "the hub to count all five forgeries" counted
after=$(kith hub status --json)
for c in badSignature unknownSigner oversize malformed stale; do
  b=$(json "v.dropped.$c" <<<"$before"); a=$(json "v.dropped.$c" <<<"$after")
  if [ "$a" -gt "$b" ]; then kt_ok "a forged record ($c) is dropped and counted ($b → $a)"; else kt_bad "forged record $c not counted ($b → $a)"; fi
done
kt_check "forged records changed nothing (hub still sees 3 members)" bash -c "[ \"\$(echo '$after' | node -e 'console.log(JSON.parse(require(\"fs\").readFileSync(0)).peers)')\" = 3 ]"
kt_check "hub still reaches home2" kt_exec hub ping -c1 -W2 "${IP[home2]}"

# --- SIGKILL while saving state ----------------------------------------------
good=0
for i in $(seq 1 12); do
  jobs=()
  for j in 1 2 3 4 5 6; do kith hub invite --expires 1h >/dev/null 2>&1 & jobs+=($!); done
  sleep "0.$((RANDOM % 3))$((RANDOM % 10))"
  kt_stop_node hub KILL
  wait "${jobs[@]}" 2>/dev/null
  if node -e 'JSON.parse(require("fs").readFileSync(process.argv[1]))' "$KT_TMP/hub/state.json" 2>/dev/null; then good=$((good + 1)); fi
  kt_start_node hub
done
if [ $good = 12 ]; then kt_ok "state.json loads after 12 SIGKILLs during saves"; else kt_bad "state.json unreadable after $((12 - good)) of 12 SIGKILLs"; fi
kt_check "hub serves status after the kills" kith hub status --json
kt_check "hub reaches home1 after the kills" kt_wait 15 "hub → home1" kt_exec hub ping -c1 -W1 "${IP[home1]}"

# --- the data plane dies under kithd ----------------------------------------
pkill -9 -f "^wireguard-go $(kt_if home2)\$"
kt_check "home2's interface is recreated after wireguard-go dies, and traffic resumes" kt_wait 30 "home1 → home2 again" kt_exec home1 ping -c1 -W1 "${IP[home2]}"

# --- key hygiene --------------------------------------------------------------
mode=$(stat -c %a "$KT_TMP/home1/state.json")
[ "$mode" = 600 ] && kt_ok "state.json (private keys) is mode 0600" || kt_bad "state.json mode $mode"
priv=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).wgPrivate)' "$KT_TMP/home1/state.json")
seed=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).signSeed)' "$KT_TMP/home1/state.json")
outputs="$(kith home1 status --json; kith home1 peers --json; kith home1 status; cat "$KT_TMP"/*.log)"
if grep -qF -- "$priv" <<<"$outputs" || grep -qF -- "$seed" <<<"$outputs"; then kt_bad "a private key appears in output or logs"; else kt_ok "private keys never appear in CLI output or logs"; fi
kt_check "no key file left behind for wg" bash -c "! ls -a $KT_TMP/*/run | grep -q wg-key"

kt_summary mesh.sh
