#!/usr/bin/env bash
# Punch benchmark: fresh trials of two homes behind NATs (a public hub relays
# until they are direct), per NAT mix. Each trial builds a new topology,
# founds a network on the hub, joins both homes, and times from the second
# join to a direct path on both sides. Prints per mix the share of trials
# that ended direct and the median and worst time to it; a failed trial of a
# mix that should go direct prints its diagnostics. Mixes:
#   cone        both homes behind cone NATs: a punch
#   symmetric   both behind symmetric NATs: no punch can work (relayed is right)
#   dual-stack  symmetric IPv4 NATs, and a global IPv6 address each behind a
#               stateful firewall (kt_dual_stack): direct over IPv6, no punch
#   KITH_PUNCH_MIXES (default "cone symmetric dual-stack"),
#   KITH_PUNCH_TRIALS (cone, default 20), KITH_PUNCH_MIX_TRIALS (the others, default 5),
#   KITH_PUNCH_TIMEOUT_S (default 30), KT_RUNTIME=node|txiki,
#   KT_ROOT=<a built checkout> to measure another build.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export KT_ROOT=${KT_ROOT:-$root}
. "$root/test/netns/lib.sh"
kt_require || exit 1
TRIALS=${KITH_PUNCH_TRIALS:-20}
TIMEOUT_S=${KITH_PUNCH_TIMEOUT_S:-30}
RT=${KT_RUNTIME:-node}
if [ "$RT" = txiki ] && [ -z "$TJS" ]; then echo "punch bench: no tjs binary for KT_RUNTIME=txiki (set TJS)"; exit 1; fi
results=$(mktemp /tmp/kith-punch.XXXXXX)
trap 'rm -f "$results"' EXIT
trap 'exit 130' INT TERM

now_ms() { date +%s%3N; }

trial() { # trial <mix> <n>
  (
    KT_ID=$(( ($$ + $2 * 7) % 10000 )) KT_TMP=$(mktemp -d /tmp/kith-netns.XXXXXX) KT_RUNTIME=$RT
    KT_NAMESPACES=(); KT_NODES=(); KT_PIDS=()
    trap kt_cleanup EXIT
    case $1 in
      cone) kt_topology ;;
      symmetric) KT_NAT_MODE=symmetric kt_topology ;;
      dual-stack) KT_NAT_MODE=symmetric kt_topology; kt_dual_stack ;;
    esac
    for n in hub home1 home2; do kt_start_node $n >/dev/null 2>&1 || { echo "setup-failed"; exit 0; }; done
    kith hub init bench --node-name hub --endpoint 192.0.2.1:51820 >/dev/null
    for h in home1 home2; do kith $h join "$(kith hub invite --name $h | tail -n1)" >/dev/null 2>&1 || { echo "setup-failed"; exit 0; }; done
    t0=$(now_ms)
    if kt_wait "$TIMEOUT_S" "a direct path between the homes" kt_direct home1 home2 2>/dev/null; then
      ms=$(( $(now_ms) - t0 ))
      echo "ok $ms"
      [ "$ms" -lt "${KITH_PUNCH_SLOW_MS:-10000}" ] || kt_diag_punch home1 home2 2>&1 | sed 's/^/    /' >&2
    else
      echo "fail"
      [ "$1" = symmetric ] || kt_diag_punch home1 home2 2>&1 | sed 's/^/    /' >&2
    fi
  )
}

rows=()
n=0
for mix in ${KITH_PUNCH_MIXES:-cone symmetric dual-stack}; do
  case $mix in cone) count=$TRIALS ;; symmetric|dual-stack) count=${KITH_PUNCH_MIX_TRIALS:-5} ;; *) echo "punch bench: unknown mix $mix"; exit 2 ;; esac
  : >"$results"
  for t in $(seq 1 "$count"); do
    n=$((n + 1))
    trial "$mix" "$n" >>"$results"
    printf '%-10s trial %2d: %s\n' "$mix" "$t" "$(tail -n1 "$results")"
  done
  ok=$(grep -c '^ok' "$results" || true)
  times=$(awk '/^ok/ {print $2}' "$results" | sort -n)
  median=$(awk 'NF {a[++k]=$1} END {if (k) print a[int((k+1)/2)]; else print "-"}' <<<"$times")
  worst=$(tail -n1 <<<"$times"); worst=${worst:--}
  echo "result punch $RT mix=$mix direct=$ok/$count median-ms=$median worst-ms=$worst"
  rows+=("$(printf '%-11s %-14s %-12s %s' "$mix" "$ok/$count ($((100 * ok / count))%)" "$median" "$worst")")
done

echo
echo "punch benchmark ($RT, $(git -C "$KT_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)): fresh trials per NAT mix, ${TIMEOUT_S} s limit each"
printf '%-11s %-14s %-12s %s\n' "NAT mix" "direct" "median ms" "worst ms"
printf '%s\n' "${rows[@]}"
