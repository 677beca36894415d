#!/usr/bin/env bash
# Attack benchmark: what hostile input costs kithd, for this build ("after")
# and an earlier one ("before"), in the same run. Prints two tables.
#
# 1. CPU: home1's kithd (KITH_BENCH_CPU_RUNTIME, default txiki) on the
#    namespace topology, joined to the hub. For KITH_BENCH_SECS (default 30)
#    each: idle, then 100 datagrams/s to its control port of
#      junk     random bytes, from a LAN host (lan1, routed to the overlay via home1)
#      replay   a member's record with a bumped seq and its old signature, the same
#               datagram each time (the expensive case), from that LAN host
#      member   the same forgery from a member's overlay address (the hub's, inside WireGuard)
#      fresh    the forgery with new signature bytes each time, from the member
#    kithd's CPU time is utime+stime from /proc/<pid>/stat; the table shows
#    milliseconds of CPU per second of attack, minus the idle baseline.
# 2. Memory: a founded kithd (Node.js and txiki.js) and one TCP connection to
#    its DNS server (127.0.0.1:5353) that pipelines queries for
#    KITH_BENCH_PIPE_SECS (default 10) and never reads a reply: kithd's RSS
#    before, at its highest during, and at the end.
#
# "before" is a built checkout in KITH_BENCH_BEFORE; without it, the commit
# KITH_BENCH_BEFORE_REF (default 7f81adc, the code before members-only control
# and stream backpressure) is built in a temporary git worktree.
#   KITH_BENCH_BEFORE=none measures this build only; KITH_BENCH_PARTS=cpu or rss runs one part.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export KT_ROOT=$root
. "$root/test/netns/lib.sh"
kt_require || exit 1
SECS=${KITH_BENCH_SECS:-30}
PIPE_SECS=${KITH_BENCH_PIPE_SECS:-10}
RATE=100
PARTS=${KITH_BENCH_PARTS:-cpu,rss}
CPU_RT=${KITH_BENCH_CPU_RUNTIME:-txiki}
if [ "$CPU_RT" = txiki ] && [ -z "$TJS" ]; then echo "attack bench: no tjs binary (set TJS or put ../shared/router beside the project)"; exit 1; fi
TSX="$root/node_modules/.bin/tsx"
HZ=$(getconf CLK_TCK)

work=$(mktemp -d /tmp/kith-attack.XXXXXX)
before_tree=""
cleanup_all() {
  if [ -n "$before_tree" ] && [ -z "${KITH_BENCH_BEFORE:-}" ]; then git -C "$root" worktree remove --force "$before_tree" >/dev/null 2>&1; fi
  rm -rf "$work"
}
trap cleanup_all EXIT
trap 'exit 130' INT TERM

builds=("after=$root")
if [ "${KITH_BENCH_BEFORE:-}" = none ]; then :
elif [ -n "${KITH_BENCH_BEFORE:-}" ]; then builds=("before=$(cd "$KITH_BENCH_BEFORE" && pwd)" "${builds[@]}")
else
  ref=${KITH_BENCH_BEFORE_REF:-7f81adc}
  before_tree="$work/before"
  echo "building $ref in a temporary worktree ..."
  git -C "$root" worktree add --detach "$before_tree" "$ref" >/dev/null 2>&1 || { echo "attack bench: cannot check out $ref"; exit 1; }
  cp -a "$root/node_modules" "$before_tree/node_modules"  # a copy: the bundler's plugins match paths inside the tree
  (cd "$before_tree" && node build/bundle.mjs && node build/native.mjs) >"$work/build.log" 2>&1 || { echo "attack bench: building $ref failed:"; cat "$work/build.log"; exit 1; }
  builds=("before=$before_tree" "${builds[@]}")
fi

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null; }
# CPU ms kithd spent per second of wall time over <secs>, while the given command runs.
cpu_during() { # cpu_during <pid> <secs> [cmd...]
  local pid=$1 secs=$2; shift 2
  local t0 t1 w0 w1 load=""
  t0=$(cpu_ticks "$pid"); w0=$(date +%s%3N)
  if [ $# -gt 0 ]; then "$@" >"$work/load.out" 2>&1 & load=$!; fi
  if [ -n "$load" ]; then wait "$load"; else sleep "$secs"; fi
  t1=$(cpu_ticks "$pid"); w1=$(date +%s%3N)
  [ -n "$t0" ] && [ -n "$t1" ] || { echo "NaN"; return; }
  awk -v d=$((t1 - t0)) -v hz="$HZ" -v ms=$((w1 - w0)) 'BEGIN { printf "%.1f", d * 1000 / hz / (ms / 1000) }'
}

# ---- 1. CPU under junk and forged datagrams
cpu_run() { # cpu_run <label> <tree>: prints "label idle junk replay member fresh" and the drop counters
  local label=$1 tree=$2
  (
    KT_ROOT=$tree KT_RUNTIME=$CPU_RT KT_ID=$(( ($$ + ${#label} * 17) % 10000 )) KT_TMP=$(mktemp -d /tmp/kith-attack-ns.XXXXXX)
    KT_NAMESPACES=(); KT_NODES=(); KT_PIDS=()
    trap kt_cleanup EXIT
    trap 'exit 130' INT TERM
    kt_topology
    kt_start_node hub >/dev/null && kt_start_node home1 >/dev/null || { echo "$label setup-failed"; exit 0; }
    kith hub init bench --node-name hub --endpoint 192.0.2.1:51820 >/dev/null
    code=$(kith hub invite | tail -n1)
    kith home1 join "$code" --node-name home1 >/dev/null 2>&1
    kt_wait 30 "home1 reaches the hub" kt_exec home1 ping -c1 -W1 100.64.0.1 >/dev/null || { echo "$label setup-failed"; exit 0; }
    ip=$(kt_ip home1)
    recs="$KT_TMP/home1/run/records.json"
    kt_wait 20 "home1 caches the hub's record" grep -q . "$recs" >/dev/null || { echo "$label setup-failed"; exit 0; }
    cp "$recs" "$KT_TMP/records.json"
    # A LAN device of the home routes the overlay to it (any device on the LAN can).
    kt_exec lan1 ip route add 100.64.0.0/10 via 198.18.1.2
    sleep 5  # settle: first gossip, pings and records written
    pid=$KT_PID_home1
    flood() { kt_exec "$1" "$TSX" "$root/bench/attack/flood.ts" "$2" "$ip" 51821 $RATE "$SECS" "$KT_TMP/records.json" hub ${3:-}; }
    idle=$(cpu_during "$pid" "$SECS")
    junk=$(cpu_during "$pid" "$SECS" flood lan1 junk)
    replay=$(cpu_during "$pid" "$SECS" flood lan1 replay)
    member=$(cpu_during "$pid" "$SECS" flood hub replay 100.64.0.1)
    fresh=$(cpu_during "$pid" "$SECS" flood hub fresh 100.64.0.1)
    alive=$(kill -0 "$pid" 2>/dev/null && echo yes || echo NO)
    echo "$label $idle $junk $replay $member $fresh $alive"
    echo "# $label: UDP datagrams the kernel dropped for a full socket buffer (kithd too slow): $(kt_exec home1 awk '/^Udp:/ && !h { h = 1; for (i = 1; i <= NF; i++) c[i] = $i; next } /^Udp:/ { for (i = 1; i <= NF; i++) if (c[i] == "RcvbufErrors") print $i }' /proc/net/snmp)"
    echo "# $label drop counters: $(kith home1 status --json 2>/dev/null | node -e 'try { const s = JSON.parse(require("fs").readFileSync(0)); console.log(JSON.stringify(s.dropped)); } catch { console.log("?"); }')"
  ) 2>>"$work/cpu.err"
}

# ---- 2. RSS under a TCP DNS pipelining client
rss_run() { # rss_run <label> <tree> <runtime>: prints "label runtime before max end queries"
  local label=$1 tree=$2 rt=$3
  (
    KT_ROOT=$tree KT_RUNTIME=$rt KT_ID=$(( ($$ + ${#label} * 31 + ${#rt}) % 10000 )) KT_TMP=$(mktemp -d /tmp/kith-attack-ns.XXXXXX)
    KT_NAMESPACES=(); KT_NODES=(); KT_PIDS=()
    trap kt_cleanup EXIT
    trap 'exit 130' INT TERM
    export TJS_HOME=$KT_TMP/tjs-home
    kt_addns hub
    kt_start_node hub --dns-port 5353 >/dev/null || { echo "$label $rt setup-failed"; exit 0; }
    kith hub init bench --node-name hub >/dev/null
    kt_wait 20 "DNS on 127.0.0.1:5353" kt_exec hub dig +short +time=1 +tries=1 -p 5353 @127.0.0.1 hub.bench.internal >/dev/null || { echo "$label $rt setup-failed"; exit 0; }
    sleep 3
    pid=$KT_PID_hub
    r0=$(rss_kb "$pid"); max=$r0
    # A long name: each NXDOMAIN answer repeats it (~330 bytes), so unread answers fill the socket buffers
    # long before the per-connection query cap.
    local long; long="$(printf 'x%.0s' $(seq 60)).$(printf 'y%.0s' $(seq 60)).$(printf 'z%.0s' $(seq 60)).$(printf 'w%.0s' $(seq 50)).bench.internal"
    kt_exec hub python3 "$root/bench/attack/pipeline.py" 127.0.0.1 5353 "$long" "$PIPE_SECS" >"$KT_TMP/pipe.out" 2>&1 &
    local load=$!
    while kill -0 "$load" 2>/dev/null; do
      r=$(rss_kb "$pid"); [ -n "$r" ] && [ "$r" -gt "$max" ] && max=$r
      sleep 0.5
    done
    wait "$load"
    r1=$(rss_kb "$pid")
    [ -n "$r1" ] || r1="died"
    q=$(kith hub status --json 2>/dev/null | node -e 'try { const s = JSON.parse(require("fs").readFileSync(0)); console.log(s.dns.stats.tcpQueries); } catch { console.log("?"); }')
    echo "$label $rt $((r0 / 1024)) $((max / 1024)) $([ "$r1" = died ] && echo died || echo $((r1 / 1024))) $q $(tail -n1 "$KT_TMP/pipe.out")"
  ) 2>>"$work/rss.err"
}

cpu_rows=(); rss_rows=(); notes=()
for b in "${builds[@]}"; do
  label=${b%%=*}; tree=${b#*=}
  if [[ $PARTS == *cpu* ]]; then
    echo "CPU: $label ($tree), $CPU_RT, ${SECS} s per load ..."
    out=$(cpu_run "$label" "$tree")
    cpu_rows+=("$(grep -v '^#' <<<"$out")"); notes+=("$(grep '^#' <<<"$out")")
  fi
  [[ $PARTS == *rss* ]] || continue
  for rt in node txiki; do
    [ "$rt" = txiki ] && [ -z "$TJS" ] && continue
    echo "RSS: $label, $rt, ${PIPE_SECS} s of pipelining ..."
    rss_rows+=("$(rss_run "$label" "$tree" "$rt")")
  done
done

echo
[ ${#cpu_rows[@]} = 0 ] || echo "kithd CPU under ${RATE} control datagrams/s ($CPU_RT; ms of CPU per second of wall time; attack rows minus idle)"
[ ${#cpu_rows[@]} = 0 ] || printf '%-8s %8s %10s %12s %12s %12s %6s\n' build idle junk-lan replay-lan replay-member fresh-member alive
for r in "${cpu_rows[@]+"${cpu_rows[@]}"}"; do
  read -r label idle junk replay member fresh alive <<<"$r"
  if [ "$idle" = setup-failed ] || [ -z "${fresh:-}" ]; then echo "$label: setup failed (see below)"; continue; fi
  printf '%-8s %8s %10s %12s %12s %12s %6s\n' "$label" "$idle" \
    "$(awk -v a="$junk" -v i="$idle" 'BEGIN{printf "%.1f", a-i}')" "$(awk -v a="$replay" -v i="$idle" 'BEGIN{printf "%.1f", a-i}')" \
    "$(awk -v a="$member" -v i="$idle" 'BEGIN{printf "%.1f", a-i}')" "$(awk -v a="$fresh" -v i="$idle" 'BEGIN{printf "%.1f", a-i}')" "$alive"
done
for n in "${notes[@]+"${notes[@]}"}"; do echo "$n"; done
[ ${#rss_rows[@]} = 0 ] && exit 0
echo
echo "kithd RSS (MiB) under one TCP DNS connection pipelining queries for ${PIPE_SECS} s without reading replies"
printf '%-8s %-7s %8s %8s %8s %12s %s\n' build runtime before max end answered client
for r in "${rss_rows[@]}"; do
  read -r label rt r0 max r1 q client <<<"$r"
  printf '%-8s %-7s %8s %8s %8s %12s %s\n' "$label" "$rt" "$r0" "${max:-}" "${r1:-}" "${q:-}" "${client:-}"
done
[ -z "$TJS" ] && echo "txiki.js: skipped (no tjs binary: set TJS=/path/to/tjs)"
if [ -s "$work/cpu.err" ] || [ -s "$work/rss.err" ]; then echo; echo "setup messages:"; tail -n 20 "$work/cpu.err" "$work/rss.err" 2>/dev/null; fi
