# Network-namespace harness: a simulated internet with a public node and two
# homes, each behind its own NAT router (nftables masquerade) with a LAN host.
# Real kithd processes, real wireguard-go, real NAT. Source it, call
# kt_topology, kt_start_node ...; kt_cleanup runs from the EXIT trap.
#
#   hub  192.0.2.1 ──┐                          ┌── nat1 198.51.100.1 ── LAN 198.18.1.0/24: home1 .2, lan1 .3
#                    ├── inet (routed core) ────┤
#                    │                          └── nat2 203.0.113.1  ── LAN 198.18.2.0/24: home2 .2, lan2 .3
#
# Only TEST-NET and benchmarking addresses; no namespace has a route out.

KT_ROOT=${KT_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
KT_ID=${KT_ID:-$(( $$ % 10000 ))}
KT_TMP=${KT_TMP:-$(mktemp -d /tmp/kith-netns.XXXXXX)}
KT_RUNTIME=${KT_RUNTIME:-node}
KT_DELAY_MS=${KT_DELAY_MS:-5}
KT_NODES=()
KT_PIDS=()

kt_ns() { echo "kt${KT_ID}-$1"; }
kt_if() { echo "k${KT_ID}$1" | cut -c1-15; }
kt_exec() { local n=$1; shift; ip netns exec "$(kt_ns "$n")" "$@"; }
kt_log() { printf '%s\n' "$*" >&2; }

kt_kithd_cmd() {
  if [ "$KT_RUNTIME" = txiki ]; then echo "$TJS run $KT_ROOT/dist/txiki/kithd.js"; else echo "node $KT_ROOT/dist/node/kithd.mjs"; fi
}
kt_kith_cmd() {
  if [ "$KT_RUNTIME" = txiki ]; then echo "$TJS run $KT_ROOT/dist/txiki/kith.js"; else echo "node $KT_ROOT/dist/node/kith.mjs"; fi
}

# kith <node> args...: runs the CLI in the node's namespace against its daemon.
kith() { local n=$1; shift; KITH_STATE_DIR="$KT_TMP/$n" kt_exec "$n" $(kt_kith_cmd) "$@"; }

kt_link() { # kt_link nsA ifA addrA nsB ifB addrB
  ip link add "$2" netns "$(kt_ns "$1")" type veth peer name "$5" netns "$(kt_ns "$4")"
  if [ -n "$3" ]; then kt_exec "$1" ip addr add "$3" dev "$2"; fi
  if [ -n "$6" ]; then kt_exec "$4" ip addr add "$6" dev "$5"; fi
  kt_exec "$1" ip link set "$2" up
  kt_exec "$4" ip link set "$5" up
}

kt_addns() {
  ip netns add "$(kt_ns "$1")"
  KT_NAMESPACES+=("$1")
  kt_exec "$1" ip link set lo up
  kt_exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=0
}

kt_nat() { # kt_nat <ns> <wan-if> [symmetric]
  local flags=""
  [ "${3:-}" = symmetric ] && flags="random,fully-random"
  kt_exec "$1" nft -f - <<NFT
table ip nat {
  chain postrouting { type nat hook postrouting priority srcnat; policy accept; oifname "$2" masquerade $flags; }
}
NFT
}

kt_topology() {
  KT_NAMESPACES=()
  for n in inet hub nat1 nat2 home1 home2 lan1 lan2; do kt_addns $n; done
  kt_exec inet sysctl -qw net.ipv4.ip_forward=1
  kt_link inet e-hub 192.0.2.254/24 hub wan 192.0.2.1/24
  kt_link inet e-nat1 198.51.100.254/24 nat1 wan 198.51.100.1/24
  kt_link inet e-nat2 203.0.113.254/24 nat2 wan 203.0.113.1/24
  kt_exec hub ip route add default via 192.0.2.254
  for i in 1 2; do
    local wanip; wanip=$([ $i = 1 ] && echo 198.51.100 || echo 203.0.113)
    kt_exec nat$i ip route add default via $wanip.254
    kt_exec nat$i sysctl -qw net.ipv4.ip_forward=1
    kt_exec nat$i ip link add br0 type bridge
    kt_exec nat$i ip addr add 198.18.$i.1/24 dev br0
    kt_exec nat$i ip link set br0 up
    kt_link nat$i p-home "" home$i lan 198.18.$i.2/24
    kt_link nat$i p-lan "" lan$i lan 198.18.$i.3/24
    kt_exec nat$i ip link set p-home master br0
    kt_exec nat$i ip link set p-lan master br0
    kt_exec home$i ip route add default via 198.18.$i.1
    kt_exec lan$i ip route add default via 198.18.$i.1
    kt_nat nat$i wan "${KT_NAT_MODE:-}"
  done
  # Realistic latency on the core links.
  for l in e-hub e-nat1 e-nat2; do kt_exec inet tc qdisc add dev $l root netem delay "${KT_DELAY_MS}ms" 2>/dev/null || true; done
}

kt_start_node() { # kt_start_node <name> [extra kithd args]
  local n=$1; shift
  mkdir -p "$KT_TMP/$n"
  rm -f "$KT_TMP/$n/kithd.sock"  # a SIGKILLed kithd leaves its socket behind
  local ifname; ifname=$(kt_if "$n")
  # exec chain (ip netns exec → env → runtime) so that $! is kithd itself.
  ip netns exec "$(kt_ns "$n")" env KITH_STATE_DIR="$KT_TMP/$n" $(kt_kithd_cmd) --ifname "$ifname" "$@" >>"$KT_TMP/$n.log" 2>&1 &
  local pid=$!
  KT_PIDS+=("$pid")
  eval "KT_PID_$n=$pid"
  KT_NODES+=("$n")
  kt_wait 10 "kithd $n API" test -S "$KT_TMP/$n/kithd.sock" && kt_wait 10 "kithd $n status" kith "$n" status
}

kt_stop_node() { # kt_stop_node <name> [signal]
  local pidvar="KT_PID_$1"; local pid=${!pidvar:-}
  [ -n "$pid" ] || return 0
  kill -"${2:-TERM}" "$pid" 2>/dev/null || true
  local i; for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

kt_wait() { # kt_wait <seconds> <what> cmd...: polls every 0.2 s
  local secs=$1 what=$2; shift 2
  local i
  for i in $(seq 1 $((secs * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  kt_log "timed out after ${secs}s waiting for $what"
  return 1
}

kt_ip() { kith "$1" status --json | sed -n 's/.*"ipv4": "\([0-9.]*\)".*/\1/p' | head -n1; }

# True when node $1 reports every other member reachable.
kt_converged() { # kt_converged <node> <expected-peers>
  local out; out=$(kith "$1" peers --json) || return 1
  [ "$(grep -c '"path": "\(direct\|relayed\)"' <<<"$out")" -ge "$2" ]
}

kt_cleanup() {
  local pid
  for pid in "${KT_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  for pid in "${KT_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  local n
  for n in "${KT_NODES[@]}"; do
    pkill -9 -f "^wireguard-go $(kt_if "$n")\$" 2>/dev/null || true
    rm -f "/var/run/wireguard/$(kt_if "$n").sock"
  done
  for n in "${KT_NAMESPACES[@]}"; do ip netns del "$(kt_ns "$n")" 2>/dev/null || true; done
  if [ -z "${KT_KEEP:-}" ]; then rm -rf "$KT_TMP"; else kt_log "kept $KT_TMP"; fi
}

kt_require() {
  [ "$(id -u)" = 0 ] || { kt_log "network namespace tests need root"; return 1; }
  local c
  for c in ip nft wg wireguard-go ping dig; do command -v $c >/dev/null || { kt_log "missing $c (run: make deps)"; return 1; }; done
}

# Test reporting: kt_ok / kt_bad count results; kt_check runs a command quietly.
KT_PASS=0; KT_FAIL=0
kt_ok() { KT_PASS=$((KT_PASS + 1)); echo "  ok   $*"; }
kt_bad() { KT_FAIL=$((KT_FAIL + 1)); echo "  FAIL $*"; KT_KEEP=1; }
kt_check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then kt_ok "$what"; else kt_bad "$what"; fi; }
kt_summary() { echo "$1 ($KT_RUNTIME): $KT_PASS passed, $KT_FAIL failed"; [ "$KT_FAIL" = 0 ]; }
