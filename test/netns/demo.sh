#!/usr/bin/env bash
# make demo: a small Kith mesh of real nodes in network namespaces behind real
# NAT, joined by invites, pinging each other. Cleans up even when interrupted.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
kt_require
trap kt_cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\033[1m== %s\033[0m\n' "$*"; }

say "building the network: a public hub and two homes behind NAT"
kt_topology
for n in hub home1 home2; do kt_start_node $n; done

say "hub: kith init demo --endpoint 192.0.2.1:51820"
kith hub init demo --node-name hub --endpoint 192.0.2.1:51820

now_ms() { date +%s%3N; }
declare -A JOIN_MS
for h in home1 home2; do
  say "hub: kith invite --name $h"
  code=$(kith hub invite --name "$h" | tail -n1)
  echo "   $code"
  say "$h: kith join <code>"
  t0=$(now_ms)
  kith $h join "$code"
  hub_ip=$(kt_ip hub)
  kt_wait 20 "$h to reach the hub" kt_exec $h ping -c1 -W1 "$hub_ip"
  JOIN_MS[$h]=$(( $(now_ms) - t0 ))
  echo "   first overlay ping reply from the hub ${JOIN_MS[$h]} ms after join started"
done

say "waiting for the mesh to converge"
for n in hub home1 home2; do kt_wait 30 "$n to see both other members" kt_converged $n 2; done
say "the homes punch through both NATs for a direct path (relayed via the hub until then)"
if kt_wait 20 "a direct path between the homes" kt_direct home1 home2; then echo "   home1 ↔ home2: direct"
else echo "   (still relayed: the NATs did not let a punch through)"; kt_diag_punch home1 home2; fi

say "every node resolves every other node's name and pings it over the overlay"
printf '%-6s %-22s %-15s %-22s %s\n' FROM NAME "RESOLVED TO" PATH RTT
fail=0
for a in hub home1 home2; do
  peers=$(kith $a peers --json)
  for b in hub home1 home2; do
    [ $a = $b ] && continue
    name="$b.demo.internal"
    addr=$(kt_exec $a dig +short +time=2 @127.0.0.1 "$name" A)
    [ -n "$addr" ] || { addr="(no answer)"; fail=1; }
    path=$(node -e 'const p=JSON.parse(process.argv[1]).find(x=>x.name===process.argv[2]); console.log(p.path==="relayed"?"relayed via "+p.via:p.path)' "$peers" $b)
    if out=$(kt_exec $a ping -c3 -i0.2 -W2 "$addr" 2>&1); then
      rtt=$(sed -n 's/.*= [0-9.]*\/\([0-9.]*\)\/.*/\1 ms/p' <<<"$out")
    else rtt="FAILED"; fail=1; fi
    printf '%-6s %-22s %-15s %-22s %s\n' $a "$name" "$addr" "$path" "$rtt"
  done
done
echo
kith home1 peers
echo
for h in home1 home2; do echo "join → first ping ($h): ${JOIN_MS[$h]} ms"; done
[ $fail = 0 ] && say "demo: all nodes reach each other" || { say "demo: some pings failed (the nodes' logs follow)"; KT_KEEP=1; exit 1; }
