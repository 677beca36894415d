#!/usr/bin/env bash
# The Debian package in the three-node scenario: dist's .deb is built afresh
# and installed with dpkg -i, and hub, home1 and home2 run the installed
# /usr/sbin/kithd and /usr/bin/kith (Node.js from /usr/lib/kith, without the
# native UDP addon: dgram), with the installed /etc/kith/kith.conf and only
# the capabilities kith.service keeps (its CapabilityBoundingSet, applied by
# setpriv, with no_new_privs). Then names resolve through kithd's DNS on the
# conffile's port, and dpkg -P leaves nothing. The package is purged in any case.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
DEB_INSTALLED=""
deb_purge() { [ -z "$DEB_INSTALLED" ] || dpkg -P kith >/dev/null 2>&1 || true; }
trap 'kt_cleanup; deb_purge' EXIT
trap 'exit 130' INT TERM

if [ "$KT_RUNTIME" != node ]; then
  kt_skip "the Debian package runs kithd on Node.js only (not $KT_RUNTIME)"; kt_summary deb.sh; exit
fi
for c in dpkg dpkg-deb setpriv; do command -v $c >/dev/null || { kt_skip "no $c"; kt_summary deb.sh; exit; }; done
if dpkg-query -W -f='${Status}' kith 2>/dev/null | grep -q installed; then
  kt_skip "a kith package is installed on this machine already; not replacing it (dpkg -P kith)"; kt_summary deb.sh; exit
fi

kt_topology
debfile=$(node "$KT_ROOT/build/deb.mjs" --out "$KT_TMP") || { kt_bad "build/deb.mjs failed"; kt_summary deb.sh; exit; }
DEB_INSTALLED=1
if DEBIAN_FRONTEND=noninteractive dpkg -i "$debfile" >"$KT_TMP/dpkg.log" 2>&1; then kt_ok "dpkg -i $(basename "$debfile")"
else kt_bad "dpkg -i: $(tail -n3 "$KT_TMP/dpkg.log")"; kt_summary deb.sh; exit; fi

# kith.service's capabilities, read from the installed unit: CAP_NET_ADMIN -> +net_admin.
caps=$(sed -n 's/^CapabilityBoundingSet=//p' /usr/lib/systemd/system/kith.service | tr ' ' '\n' | sed -n 's/^CAP_\(.*\)/+\L\1/p' | paste -sd, -)
[ -n "$caps" ] || { kt_bad "no CapabilityBoundingSet in the installed unit"; kt_summary deb.sh; exit; }
export KT_KITHD_CMD="setpriv --bounding-set=-all,$caps --inh-caps=-all --no-new-privs /usr/sbin/kithd"
export KT_KITH_CMD=/usr/bin/kith

for n in hub home1 home2; do kt_start_node $n --config /etc/kith/kith.conf; done
pid=$KT_PID_hub
cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline")
case "$cmd" in "/usr/bin/node /usr/lib/kith/kithd.mjs "*) kt_ok "kithd runs from /usr/lib/kith on Node.js";; *) kt_bad "kithd's command line: $cmd";; esac
want=$(echo "$caps" | sed 's/+/cap_/g')
have=$(capsh --decode="$(awk '/^CapEff/ {print $2}' "/proc/$pid/status")" | sed 's/^[^=]*=//')
if [ "$have" = "$want" ]; then kt_ok "kithd holds only the unit's capabilities ($have)"; else kt_bad "kithd's capabilities: $have, the unit's: $want"; fi
kt_check "no native addon loaded (dgram)" bash -c "! grep -q kith_udp /proc/$pid/maps"

kt_three_join
kt_three_converge

zone=demo.internal
kt_check "home1 resolves hub.$zone through hub's DNS on the conffile's port 5353" \
  bash -c "[ \"\$(ip netns exec $(kt_ns home1) dig +short +time=2 +tries=2 -p 5353 @${IP[hub]} hub.$zone A)\" = '${IP[hub]}' ]"
kt_check "kith config check on the installed tree reads /etc/kith/kith.conf" bash -c "/usr/bin/kith config check --json | grep -q '\"file\": \"/etc/kith/kith.conf\"'"

for n in hub home1 home2; do kt_stop_node $n; done
if dpkg -P kith >"$KT_TMP/dpkg.log" 2>&1; then kt_ok "dpkg -P kith"; DEB_INSTALLED=""; else kt_bad "dpkg -P: $(tail -n3 "$KT_TMP/dpkg.log")"; fi
kt_check "nothing of the package is left" bash -c "! ls -d /usr/lib/kith /etc/kith /var/lib/kith /usr/bin/kith /usr/sbin/kithd /usr/lib/systemd/system/kith.service /etc/dnsmasq.d/kith 2>/dev/null | grep -q ."

kt_summary deb.sh
