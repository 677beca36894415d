# Test stand-in for /etc/rc.common with USE_PROCD=1: sources the shims and an
# init script, then runs one action the way rc.common does (start is
# "procd_open_service; start_service; procd_close_service; service_started",
# stop is "stop_service; procd_kill; service_stopped", reload is
# reload_service or else start). Usage: dash rc-harness.sh <init script> <action>
here="${0%/*}"
initscript="$1"
action="$2"

. "$here/functions-shim.sh"
. "$here/procd-shim.sh"

start_service() { return 0; }
stop_service() { return 0; }
service_triggers() { return 0; }

. "$initscript"

[ -n "$USE_PROCD" ] || { echo "rc-harness: $initscript does not set USE_PROCD" >&2; exit 2; }

rc_procd() {
	procd_open_service "${initscript##*/}" "$initscript"
	"$@"
	procd_close_service set
}

start() {
	rc_procd start_service "$@"
	if type service_started >/dev/null 2>&1; then service_started; fi
}
stop() {
	stop_service "$@"
	procd_kill "${initscript##*/}" "$1"
	if type service_stopped >/dev/null 2>&1; then service_stopped; fi
}
reload() {
	if type reload_service >/dev/null 2>&1; then
		reload_service "$@"
	else
		start
	fi
}

case "$action" in
	start|stop|reload) "$action" ;;
	*) echo "rc-harness: unknown action $action" >&2; exit 2 ;;
esac
