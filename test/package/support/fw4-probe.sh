#!/bin/sh
# test/package/support/fw4-probe.sh: the ruleset OpenWrt's firewall4 renders
# from a config dir and from Kith's procd firewall data, loaded into a router
# namespace and probed with real packets from hosts on its lan, wan, kith0 and
# kith0e sides. Like the router tree's bin/fw4-netns-check, whose tools it
# uses (fw4, fw4-netifd, ubusd, share/fw4-reloc/netprobe.py), but with the
# probes Kith's firewall needs (control port, overlay DNS, end-to-end port,
# kith -> kith, kith -> one LAN host and not another) and with fw4 reading
# "service get_data" from fw4-service.uc the way it reads procd on a router.
# Needs root, ip, nft, python3.
#
#   fw4-probe.sh ROUTER_ROOT CONFDIR SERVICE_DATA_JSON PREFIX OUTDIR
#
# CONFDIR holds firewall, network and kith (the uci-defaults already ran);
# SERVICE_DATA_JSON is the reply of `ubus call service get_data
# '{"type":"firewall"}'`. Namespaces PREFIX-{r,lan,wan,kith,kithe}, deleted
# on exit. Prints one line per probe:
#   probe FROM TO PROTO PORT RESULT   (RESULT: open, refused, unreachable, timeout, no-reply)
#
# Topology (veth):
#   r: br-lan 192.168.1.1/24 (bridge over lan1)  lan:   192.168.1.10/24, 192.168.1.100/24
#      wan 198.51.100.1/24                        wan:   198.51.100.2/24
#      kith0 100.64.0.1/24                        kith:  100.64.0.2/24 (a member, through kith0)
#      kith0e 100.64.1.1/24                       kithe: 100.64.1.2/24 (a member, through kith0e)

ROOT=$1 CONF=$2 DATA=$3 P=$4 OUT=$5
[ $# = 5 ] || { sed -n '2,/^$/s/^# \{0,1\}//p' "$0" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "fw4-probe: needs root" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd -P)
mkdir -p "$OUT" || exit 2
PIDS= NETNS=

cleanup() {
	for pid in $PIDS; do kill "$pid" 2>/dev/null; done
	for pid in $PIDS; do wait "$pid" 2>/dev/null; done
	for ns in $NETNS; do ip netns del "$ns" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE
fail() { echo "fw4-probe: $*" >&2; exit 1; }

uget() { v=$("$ROOT/bin/uci" -c "$CONF" -t "$OUT/.uci" -q get "$1"); printf '%s\n' "${v:-$2}"; }
KITH_DEV=$(uget kith.main.ifname kith0)
LP=$(uget kith.main.listen_port 51820)
DNS=$(uget kith.dns.port 5353)
CONTROL=51821
E2E=$((CONTROL + 1))
E2E_DEV="$(printf '%.14s' "$KITH_DEV")e"

# --- ubus: the netifd stand-in and procd's service data -----------------------

SOCK=$OUT/ubus.sock
rm -f "$SOCK"
"$ROOT/bin/ubusd" -s "$SOCK" >"$OUT/ubusd.log" 2>&1 &
PIDS="$PIDS $!"
n=50; while [ ! -S "$SOCK" ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
[ -S "$SOCK" ] || fail "ubusd did not start: $(cat "$OUT/ubusd.log")"
"$ROOT/bin/fw4-netifd" serve -c "$CONF" -s "$SOCK" "wan=wan,198.51.100.1/24" >"$OUT/netifd.log" 2>&1 &
PIDS="$PIDS $!"
"$ROOT/bin/ucode" -S -L "$ROOT/lib/ucode" "$HERE/fw4-service.uc" "$SOCK" "$DATA" >"$OUT/service.log" 2>&1 &
PIDS="$PIDS $!"
for obj in network.interface service; do
	"$ROOT/bin/ubus" -s "$SOCK" -t 10 wait_for "$obj" ||
		fail "$obj was not published: $(cat "$OUT/netifd.log" "$OUT/service.log")"
done

# --- namespaces -----------------------------------------------------------------

for ns in r lan wan kith kithe; do
	ip netns add "$P-$ns" || fail "ip netns add $P-$ns"
	NETNS="$NETNS $P-$ns"
	ip -n "$P-$ns" link set lo up
done
R=$P-r

veth() { # router-dev host-ns
	ip -n "$R" link add "$1" type veth peer name eth0 netns "$2" || fail "veth $1"
	ip -n "$R" link set "$1" up
	ip -n "$2" link set eth0 up
}
ip -n "$R" link add br-lan type bridge || fail "bridge br-lan"
veth lan1 "$P-lan"
ip -n "$R" link set lan1 master br-lan
ip -n "$R" link set br-lan up
veth wan "$P-wan"
veth "$KITH_DEV" "$P-kith"
veth "$E2E_DEV" "$P-kithe"

ip -n "$R" addr add 192.168.1.1/24 dev br-lan
ip -n "$R" addr add 198.51.100.1/24 dev wan
ip -n "$R" addr add 100.64.0.1/24 dev "$KITH_DEV"
ip -n "$R" addr add 100.64.1.1/24 dev "$E2E_DEV"
ip netns exec "$R" sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward'

ip -n "$P-lan" addr add 192.168.1.10/24 dev eth0
ip -n "$P-lan" addr add 192.168.1.100/24 dev eth0
ip -n "$P-lan" route add default via 192.168.1.1
ip -n "$P-wan" addr add 198.51.100.2/24 dev eth0
ip -n "$P-wan" route add 192.168.1.0/24 via 198.51.100.1
ip -n "$P-wan" route add 100.64.0.0/10 via 198.51.100.1
ip -n "$P-kith" addr add 100.64.0.2/24 dev eth0
ip -n "$P-kith" route add default via 100.64.0.1
ip -n "$P-kithe" addr add 100.64.1.2/24 dev eth0
ip -n "$P-kithe" route add default via 100.64.1.1

# --- render, check, load --------------------------------------------------------

ip netns exec "$R" "$ROOT/bin/fw4" -c "$CONF" -P "$OUT/.uci" -s "$SOCK" print >"$OUT/fw4.nft" 2>"$OUT/fw4.err" ||
	fail "fw4 print failed: $(cat "$OUT/fw4.err")"
ip netns exec "$R" nft -c -f "$OUT/fw4.nft" || fail "nft -c -f rejected $OUT/fw4.nft"
ip netns exec "$R" nft -f "$OUT/fw4.nft" || fail "nft -f failed"
echo "loaded $(wc -l <"$OUT/fw4.nft") lines"

# --- listeners ------------------------------------------------------------------

PROBE="$ROOT/share/fw4-reloc/netprobe.py"
listen() { # ns spec...
	ns=$1; shift
	rm -f "$OUT/ready.$ns"
	ip netns exec "$ns" python3 "$PROBE" listen "$OUT/ready.$ns" "$@" >"$OUT/listen.$ns.log" 2>&1 &
	PIDS="$PIDS $!"
}
specs=
for s in tcp:22 tcp:80 tcp:443 tcp:53 udp:53 "udp:$CONTROL" "tcp:$DNS" "udp:$DNS" "tcp:$LP" "udp:$LP" "udp:$E2E"; do
	case " $specs " in *" $s "*) ;; *) specs="$specs $s" ;; esac
done
# shellcheck disable=SC2086
listen "$R" $specs
listen "$P-lan" tcp:22 tcp:80
listen "$P-wan" tcp:80
listen "$P-kith" tcp:80
listen "$P-kithe" tcp:80
for ns in $NETNS; do
	n=100; while [ ! -f "$OUT/ready.$ns" ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
	[ -f "$OUT/ready.$ns" ] || fail "listener in $ns did not start: $(cat "$OUT/listen.$ns.log")"
done

# --- probes ---------------------------------------------------------------------

probe() { # from to proto port
	if [ "$3" = icmp ]; then
		ip netns exec "$P-$1" ping -c 1 -W 2 "$2" >/dev/null 2>&1 && got=open || got=no-reply
	else
		got=$(ip netns exec "$P-$1" python3 "$PROBE" "$3" "$2" "$4" 2)
		got=${got%% *}
	fi
	echo "probe $1 $2 $3 $4 $got"
}

for port in 22 80 443; do probe kith 100.64.0.1 tcp $port; done
for port in 22 80 443 53; do probe kith 192.168.1.1 tcp $port; done
probe kith 192.168.1.1 udp 53
probe kith 100.64.0.1 udp 53
probe kith 100.64.0.1 udp "$CONTROL"
probe kith 100.64.0.1 udp "$DNS"
probe kith 100.64.0.1 tcp "$DNS"
probe kith 100.64.0.1 udp "$E2E"
probe kith 100.64.0.1 icmp -
probe kith 192.168.1.10 tcp 22
probe kith 192.168.1.10 tcp 80
probe kith 192.168.1.100 tcp 80
probe kith 198.51.100.2 tcp 80
probe kith 100.64.1.2 tcp 80
probe kithe 100.64.0.2 tcp 80
probe kithe 100.64.1.1 tcp 22
probe kithe 100.64.1.1 udp "$E2E"
probe lan 192.168.1.1 tcp 22
probe lan 100.64.0.2 tcp 80
probe wan 198.51.100.1 tcp "$LP"
probe wan 198.51.100.1 udp "$LP"
probe wan 198.51.100.1 tcp 22
probe wan 198.51.100.1 udp "$CONTROL"
probe wan 198.51.100.1 udp "$DNS"
probe wan 198.51.100.1 udp "$E2E"
probe wan 100.64.0.2 tcp 80
probe wan 192.168.1.10 tcp 80
exit 0
