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
KT_TMP=${KT_TMP:-}  # made by kt_topology, removed by kt_cleanup
KT_RUNTIME=${KT_RUNTIME:-node}
KT_DELAY_MS=${KT_DELAY_MS:-5}
KT_NODES=()
KT_PIDS=()
KT_NAMESPACES=()
# txiki.js: an explicit TJS wins, then the router userland beside the project, then tjs on PATH.
if [ -z "${TJS:-}" ]; then
  for c in "$KT_ROOT/../shared/router/bin/tjs" "$(command -v tjs || true)"; do
    if [ -n "$c" ] && [ -x "$c" ]; then TJS=$(cd "$(dirname "$c")" && pwd)/$(basename "$c"); break; fi
  done
fi
export TJS=${TJS:-}

kt_ns() { echo "kt${KT_ID}-$1"; }
kt_if() { echo "k${KT_ID}$1" | cut -c1-15; }
kt_exec() { local n=$1; shift; ip netns exec "$(kt_ns "$n")" "$@"; }
kt_log() { printf '%s\n' "$*" >&2; }

# KT_KITHD_CMD / KT_KITH_CMD run another build of the programs (deb.sh: the installed package).
kt_kithd_cmd() {
  if [ -n "${KT_KITHD_CMD:-}" ]; then echo "$KT_KITHD_CMD"; return; fi
  if [ "$KT_RUNTIME" = txiki ]; then echo "$TJS run $KT_ROOT/dist/txiki/kithd-boot.js"; else echo "node $KT_ROOT/dist/node/kithd.mjs"; fi
}
kt_kith_cmd() {
  if [ -n "${KT_KITH_CMD:-}" ]; then echo "$KT_KITH_CMD"; return; fi
  if [ "$KT_RUNTIME" = txiki ]; then echo "$TJS run $KT_ROOT/dist/txiki/kith.js"; else echo "node $KT_ROOT/dist/node/kith.mjs"; fi
}

# kith <node> args...: runs the CLI in the node's namespace against its daemon.
kith() { local n=$1; shift; KITH_STATE_DIR="$KT_TMP/$n" kt_exec "$n" $(kt_kith_cmd) "$@"; }

# kt_spawn <node> <log> cmd...: starts a long-running program in the node's
# namespace. ip netns exec execs the command, so $! (kept in KT_PIDS and
# KT_LAST_PID) is the program itself, and kt_cleanup ends it by its id.
kt_spawn() {
  local n=$1 log=$2; shift 2
  ip netns exec "$(kt_ns "$n")" "$@" >>"$log" 2>&1 &
  KT_LAST_PID=$!
  disown "$KT_LAST_PID"  # ended by its id (kt_cleanup), without bash's "Killed" notices in the log
  KT_PIDS+=("$KT_LAST_PID")
}

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
  [ -n "$KT_TMP" ] || KT_TMP=$(mktemp -d "${KT_TMP_PREFIX:-/tmp/kith-netns}.XXXXXX")
  export TJS_HOME=$KT_TMP/tjs-home  # txiki.js writes nothing into $HOME
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

# IPv6 on the simulated internet of kt_topology (2001:db8::/32, the
# documentation prefix): each router a /64 towards the core and a /64 for its
# home (home1 2001:db8:1::2, home2 2001:db8:2::2), behind a stateful firewall
# as home routers ship (established and related in, nothing new from outside).
kt_dual_stack() {
  kt_exec inet sysctl -qw net.ipv6.conf.all.forwarding=1
  for i in 1 2; do
    kt_exec inet ip -6 addr add "2001:db8:10$i::fe/64" dev "e-nat$i" nodad
    kt_exec nat$i ip -6 addr add "2001:db8:10$i::1/64" dev wan nodad
    kt_exec inet ip -6 route add "2001:db8:$i::/64" via "2001:db8:10$i::1"
    kt_exec nat$i sysctl -qw net.ipv6.conf.all.forwarding=1
    kt_exec nat$i ip -6 addr add "2001:db8:$i::1/64" dev br0 nodad
    kt_exec nat$i ip -6 route add default via "2001:db8:10$i::fe"
    kt_exec home$i ip -6 addr add "2001:db8:$i::2/64" dev lan nodad
    kt_exec home$i ip -6 route add default via "2001:db8:$i::1"
    kt_exec nat$i nft -f - <<NFT
table ip6 homefw {
  chain forward { type filter hook forward priority filter; policy accept;
    ct state established,related accept
    iifname "wan" icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem } accept
    iifname "wan" drop
  }
}
NFT
  done
}

# A second public node "hub2" at 192.0.2.2 beside the hub on the simulated
# internet of kt_topology (inet answers ARP for the /32 it routes to it), for
# tests that need two relays. kithd on it gets its configured endpoint from
# $KT_TMP/hub2.uci: kt_start_node hub2 --config "$KT_TMP/hub2.uci".
kt_second_relay() {
  kt_addns hub2
  kt_link inet e-hub2 "" hub2 wan 192.0.2.2/24
  kt_exec inet ip route add 192.0.2.2/32 dev e-hub2
  local l; for l in e-hub e-hub2; do kt_exec inet sysctl -qw net.ipv4.conf.$l.proxy_arp=1; done
  kt_exec hub2 ip route add default via 192.0.2.254
  kt_exec inet tc qdisc add dev e-hub2 root netem delay "${KT_DELAY_MS}ms" 2>/dev/null || true
  printf "config kith 'main'\n\tlist endpoint '192.0.2.2:51820'\n" >"$KT_TMP/hub2.uci"
}

# The longest run of lost replies in a `ping -i <interval>` output of <count>
# pings, in ms: the outage a failover caused.
kt_longest_gap_ms() { # kt_longest_gap_ms <file> <count> <interval-ms>
  local s run=0 worst=0
  for s in $(seq 1 "$2"); do
    if grep -q "icmp_seq=$s " "$1"; then run=0; else run=$((run + 1)); [ "$run" -gt "$worst" ] && worst=$run; fi
  done
  echo $((worst * $3))
}

kt_start_node() { # kt_start_node <name> [extra kithd args]
  local n=$1; shift
  mkdir -p "$KT_TMP/$n"
  rm -f "$KT_TMP/$n/kithd.sock"  # a SIGKILLed kithd leaves its socket behind
  local ifname; ifname=$(kt_if "$n")
  # exec chain (ip netns exec → env → runtime) so that $! is kithd itself.
  ip netns exec "$(kt_ns "$n")" env KITH_STATE_DIR="$KT_TMP/$n" KITH_LOG_TIME=1 $(kt_kithd_cmd) --ifname "$ifname" "$@" >>"$KT_TMP/$n.log" 2>&1 &
  local pid=$!
  disown "$pid"
  KT_PIDS+=("$pid")
  eval "KT_PID_$n=$pid"
  KT_NODES+=("$n")
  kt_wait 10 "kithd $n API" test -S "$KT_TMP/$n/kithd.sock" && kt_wait 10 "kithd $n status" kith "$n" status
}

# The three-node scenario's start: the topology, a kithd on hub, home1 and
# home2, hub founds "demo", the homes join with invites (checked).
kt_demo_mesh() { # the topology, kithd on hub, home1 and home2, and kt_three_join
  local n
  kt_topology
  for n in hub home1 home2; do kt_start_node $n; done
  kt_three_join
}

kt_stop_node() { # kt_stop_node <name> [signal]
  local pidvar="KT_PID_$1"; local pid=${!pidvar:-}
  [ -n "$pid" ] || return 0
  kill -"${2:-TERM}" "$pid" 2>/dev/null || true
  local i; for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kt_log "kithd $1 (pid $pid) did not end after SIGKILL"
}

kt_wait() { # kt_wait <seconds> <what> cmd...: polls every 0.2 s for at most <seconds> of wall time; on timeout prints what the last try said
  local secs=$1 what=$2; shift 2
  local out end=$((SECONDS + secs))
  while :; do
    out=$("$@" 2>&1) && return 0
    [ "$SECONDS" -lt "$end" ] || break
    sleep 0.2
  done
  kt_log "timed out after ${secs}s waiting for $what; last try of '$*' said: $(tail -n 3 <<<"$out" | tr '\n' ' ' | cut -c1-300)"
  return 1
}

# The path node $1 reports to member $2: "direct", "relayed via X", "unreachable" or "none".
kt_path() {
  kith "$1" peers --json 2>/dev/null | node -e 'let p; try { p = JSON.parse(require("fs").readFileSync(0)).find((x) => x.name === process.argv[1]); } catch {} console.log(p ? p.path + (p.via ? " via " + p.via : "") : "none")' "$2"
}
# The icmp_seq numbers 1..N a ping output file lacks (what a lost-pings failure needs to show).
kt_missing_seqs() { # kt_missing_seqs <file> <count>
  local s; for s in $(seq 1 "$2"); do grep -q "icmp_seq=$s " "$1" || printf '%s ' "$s"; done
}
kt_direct() { [ "$(kt_path "$1" "$2")" = direct ] && [ "$(kt_path "$2" "$1")" = direct ]; }

# What a failed punch needs for a diagnosis, on stderr: both NATs' conntrack
# tables, the homes' punch TTL rules, WireGuard endpoints, handshakes and
# transfer (never keys of the node itself), paths, and the punch log lines.
kt_diag_punch() { # kt_diag_punch homeA homeB
  local h n
  { echo "--- punch diagnostics ($1 ↔ $2)"
    for n in nat1 nat2; do
      echo "conntrack $n:"; kt_exec $n conntrack -L -p udp 2>/dev/null | sed 's/^/  /' || echo "  (conntrack not installed)"
    done
    for h in "$1" "$2"; do
      echo "$h: path to the other: $(kt_path "$h" "$([ "$h" = "$1" ] && echo "$2" || echo "$1")")"
      echo "$h: nft punch tables: $(kt_exec "$h" nft list tables 2>/dev/null | grep kithp_ | tr '\n' ' ')"
      kt_exec "$h" nft list ruleset 2>/dev/null | grep 'ttl set' | sed 's/^/  /'
      echo "$h: wg endpoints / latest handshakes / transfer:"
      for w in endpoints latest-handshakes transfer; do kt_exec "$h" wg show "$(kt_if "$h")" $w 2>/dev/null | sed "s/^/  $w /"; done
      echo "$h: records it holds:"; "$KT_ROOT/node_modules/.bin/tsx" "$KT_ROOT/test/netns/tool.ts" dump "$KT_TMP/$h/run/records.json" 2>&1 | sed 's/^/  /'
      echo "$h: punch and path log:"; grep -E 'punch|path to' "$KT_TMP/$h.log" 2>/dev/null | tail -n 16 | sed 's/^/  /'
    done
    echo "--- end of punch diagnostics"; } >&2
}

kt_ip() { kith "$1" status --json | sed -n 's/.*"ipv4": "\([0-9.]*\)".*/\1/p' | head -n1; }

# True when node $1 reports every other member reachable.
kt_converged() { # kt_converged <node> <expected-peers>
  local out; out=$(kith "$1" peers --json) || return 1
  [ "$(grep -c '"path": "\(direct\|relayed\)"' <<<"$out")" -ge "$2" ]
}

kt_cleanup() {
  local pid n i
  for pid in "${KT_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
  for pid in "${KT_PIDS[@]}"; do
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  for n in "${KT_NODES[@]}"; do
    for i in "$(kt_if "$n")" "$(kt_if "$n" | cut -c1-14)e"; do # the outer and the end-to-end interface
      pkill -9 -f "^wireguard-go $i\$" 2>/dev/null || true
      rm -f "/var/run/wireguard/$i.sock"
    done
  done
  # Anything still running in our namespaces (a child a test forgot) goes too.
  for n in "${KT_NAMESPACES[@]}"; do
    for pid in $(ip netns pids "$(kt_ns "$n")" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
  done
  for n in "${KT_NAMESPACES[@]}"; do ip netns del "$(kt_ns "$n")" 2>/dev/null || true; done
  if [ -n "${KT_KEEP:-}" ]; then # a check failed: the daemons' last words go to the CI log
    local f; for f in "$KT_TMP"/*.log; do [ -f "$f" ] && { echo "--- last lines of $(basename "$f")"; tail -n 25 "$f"; } >&2; done
  fi
  if [ -n "${KT_KEEP:-}" ] && [ -n "${KT_KEEP_DIR:-}" ]; then
    mkdir -p "$KT_KEEP_DIR" && cp -r "$KT_TMP" "$KT_KEEP_DIR/" 2>/dev/null && kt_log "logs kept in $KT_KEEP_DIR/$(basename "$KT_TMP")"
  fi
  [ -z "$KT_TMP" ] || rm -rf "$KT_TMP"
}

# Leftovers of this run id: processes in its namespaces, its wireguard-go, its namespaces.
kt_leftovers() { # kt_leftovers <id>
  local ns
  for ns in $(ip netns list | awk '{print $1}' | grep "^kt$1-"); do echo "namespace $ns: pids $(ip netns pids "$ns" | tr '\n' ' ')"; done
  pgrep -a -f "^wireguard-go k$1" || true
}

kt_require() {
  [ "$(id -u)" = 0 ] || { kt_log "network namespace tests need root"; return 1; }
  local c
  for c in ip nft wg wireguard-go ping dig tcpdump; do command -v $c >/dev/null || { kt_log "missing $c (run: make deps)"; return 1; }; done
}

# Test reporting: kt_ok / kt_bad count results; kt_check runs a command quietly.
KT_PASS=0; KT_FAIL=0; KT_SKIP=0
kt_ok() { KT_PASS=$((KT_PASS + 1)); echo "  ok   $*"; }
kt_bad() { KT_FAIL=$((KT_FAIL + 1)); echo "  FAIL $*"; KT_KEEP=1; }
kt_skip() { KT_SKIP=$((KT_SKIP + 1)); echo "  SKIP $*"; }
# Under pipefail, `cmd | grep -q PATTERN` fails when grep exits at its first
# match before cmd has written all it had (cmd dies of SIGPIPE): test a
# command's output as grep -q PATTERN <<<"$(cmd)" instead.
kt_check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then kt_ok "$what"; else kt_bad "$what"; fi; }
kt_summary() { echo "$1 ($KT_RUNTIME): $KT_PASS passed, $KT_FAIL failed, $KT_SKIP skipped"; [ "$KT_FAIL" = 0 ]; }

# The three-node scenario (mesh.sh, deb.sh), on running nodes hub, home1, home2:
# kt_three_join founds network "demo" on the hub and admits both homes;
# kt_three_converge waits until every node sees the others, checks that every
# pair pings over the overlay (IP[node] holds the addresses) and that the
# homes punch a direct path through their NATs.
kt_three_join() {
  kith hub init demo --node-name hub --endpoint 192.0.2.1:51820 >/dev/null
  local h code
  for h in home1 home2; do
    code=$(kith hub invite --name $h | tail -n1)
    kt_check "$h joins with an invite" kith $h join "$code"
  done
}
kt_three_converge() {
  local n a b
  for n in hub home1 home2; do kt_check "$n sees both other members" kt_wait 30 "$n converged" kt_converged $n 2; done
  declare -gA IP
  for n in hub home1 home2; do IP[$n]=$(kt_ip $n); done
  for a in hub home1 home2; do for b in hub home1 home2; do
    # A pair that just became relayed first sets up its end-to-end session (a second or two): reachable within 10 s.
    [ $a = $b ] || kt_check "$a pings $b over the overlay" kt_wait 10 "$a → $b" kt_exec $a ping -c1 -W1 "${IP[$b]}"
  done; done
  if kt_wait 30 "a direct path between home1 and home2" kt_direct home1 home2; then kt_ok "home1 and home2 connect directly through both NATs (designated-opener punch)"
  else kt_bad "home1-home2 path: $(kt_path home1 home2) / $(kt_path home2 home1)"; kt_diag_punch home1 home2; fi
}
