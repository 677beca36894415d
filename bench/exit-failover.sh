#!/usr/bin/env bash
# Exit failover time: on the exit topology (test/netns/exits-lib.sh), home1
# uses `auto`; each trial kills the donor home1 goes through (kithd and its
# WireGuard interface) and times until a fetch from home1's LAN client reaches
# the server from the other donor's WAN address; then the dead donor is
# started again (its offer is in its state) before the next trial.
# KITH_EXIT_TRIALS (default 10); prints each time and the median.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../test/netns/lib.sh"
. "$here/../test/netns/exits-lib.sh"
kt_require || exit 1
trap kt_cleanup EXIT
trap 'exit 130' INT TERM
TRIALS=${KITH_EXIT_TRIALS:-10}
other() { [ "$1" = hub ] && echo don2 || echo hub; }
# Node $1 sees donor $2's offer as healthy (kith exits --json).
kx_healthy() { kith "$1" exits --json | node -e 'const l = JSON.parse(require("fs").readFileSync(0)); process.exit(l.some((x) => x.node === process.argv[1] && x.healthy) ? 0 : 1)' "$2"; }

kx_topology
kx_mesh
kith home1 exit use auto >/dev/null
times=()
for t in $(seq 1 "$TRIALS"); do
  kt_wait 60 "home1 has an exit" kx_has_via home1 || { echo "trial $t: home1 has no exit"; exit 1; }
  via=$(kx_via home1); to=$(other "$via")
  kt_wait 30 "the other donor healthy" kx_healthy home1 "$to" || { echo "trial $t: $to not healthy"; exit 1; }
  kt_wait 10 "c1 through $via" kx_fetch_via c1 "$via" || { echo "trial $t: c1 not through $via"; exit 1; }
  kt_stop_node "$via" KILL
  kt_exec "$via" ip link del "$(kt_if "$via")" 2>/dev/null
  t0=$(date +%s%N); ms=""
  for _ in $(seq 1 200); do
    [ "$(kx_fetch c1 0.5)" = "${WAN[$to]}" ] && { ms=$(( ($(date +%s%N) - t0) / 1000000 )); break; }
    sleep 0.05
  done
  [ -n "$ms" ] || { echo "trial $t: c1 never went through $to"; exit 1; }
  echo "trial $t: $via died, c1 through $to after $ms ms"
  times+=("$ms")
  if [ "$via" = don2 ]; then kt_start_node don2 --config "$KT_TMP/don2.uci"; else kt_start_node hub; fi
  kt_wait 60 "$via back" kt_converged "$via" 3 || { echo "trial $t: $via did not come back"; exit 1; }
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
median=$(sed -n "$(( (${#times[@]} + 1) / 2 ))p" <<<"$sorted")
echo "exit failover ($KT_RUNTIME, $TRIALS trials): median $median ms, best $(head -n1 <<<"$sorted") ms, worst $(tail -n1 <<<"$sorted") ms"
