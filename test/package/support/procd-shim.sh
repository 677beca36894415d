# Test stand-in for OpenWrt's /lib/functions/procd.sh: the same functions and
# arguments, but instead of building the JSON for `ubus call service set` each
# call is appended to $PROCD_LOG as one line of tab-separated words (function,
# then arguments). test/package/support/procd.ts turns the log into the
# message procd would receive. Like procd.sh it knows the parameter types and
# converts a reload_signal name to its number (busybox `kill -l` does that;
# dash cannot); an unknown parameter or signal is logged as an error.
# procd_running answers from $PROCD_SHIM_RUNNING (1: running).
# procd_open_data ... procd_close_data and the jshn calls between them
# (json_add_*, json_close_*) are logged one by one, for procd.ts to build the
# instance's "data" table; procd_set_config_changed is logged as the
# config.change event it sends.

_shim_log() {
	printf '%s' "$1" >> "$PROCD_LOG"
	shift
	for _shim_arg in "$@"; do
		printf '\t%s' "$_shim_arg" >> "$PROCD_LOG"
	done
	printf '\n' >> "$PROCD_LOG"
}

_shim_signal_number() {
	case "$1" in
		[0-9]*) echo "$1" ;;
		HUP|SIGHUP) echo 1 ;;
		INT|SIGINT) echo 2 ;;
		QUIT|SIGQUIT) echo 3 ;;
		KILL|SIGKILL) echo 9 ;;
		USR1|SIGUSR1) echo 10 ;;
		USR2|SIGUSR2) echo 12 ;;
		TERM|SIGTERM) echo 15 ;;
		*) return 1 ;;
	esac
}

procd_open_service() { _shim_log open_service "$@"; }

procd_close_service() {
	_shim_log open_triggers
	service_triggers
	_shim_log close_triggers
	_shim_log close_service "${1:-set}"
}

procd_open_instance() { _shim_log open_instance "$@"; }
procd_close_instance() { _shim_log close_instance; }

procd_set_param() {
	local _type="$1"
	shift
	case "$_type" in
		env|data|limits|command|netdev|file|respawn|watch|watchdog|error|nice|term_timeout|\
		pidfile|user|group|seccomp|capabilities|facility|extroot|overlaydir|tmpoverlaysize|vrf|\
		stdout|stderr|no_new_privs)
			_shim_log set_param "$_type" "$@" ;;
		reload_signal)
			local _n
			_n="$(_shim_signal_number "$1")" || { _shim_log error "unknown signal $1"; return 1; }
			_shim_log set_param reload_signal "$_n" ;;
		*)
			_shim_log error "unknown procd parameter $_type"
			return 1 ;;
	esac
}

procd_append_param() { _shim_log append_param "$@"; }
procd_add_reload_trigger() { _shim_log reload_trigger "$@"; }
procd_add_interface_trigger() { _shim_log interface_trigger "$@"; }
procd_add_config_trigger() { _shim_log config_trigger "$@"; }
procd_kill() { _shim_log kill "$@"; }

procd_send_signal() {
	local _sig="$3"
	if [ -n "$_sig" ]; then
		_sig="$(_shim_signal_number "$_sig")" || { _shim_log error "unknown signal $3"; return 1; }
	fi
	_shim_log send_signal "$1" "$2" "$_sig"
}

procd_running() {
	_shim_log running "$@"
	[ "$PROCD_SHIM_RUNNING" = 1 ]
}

procd_open_data() { _shim_log open_data; }
procd_close_data() { _shim_log close_data; }
json_add_array() { _shim_log json_array "$1"; }
json_add_object() { _shim_log json_object "$1"; }
json_add_string() { _shim_log json_string "$1" "$2"; }
json_add_int() { _shim_log json_int "$1" "$2"; }
json_add_boolean() { _shim_log json_boolean "$1" "$2"; }
json_close_array() { _shim_log json_close array; }
json_close_object() { _shim_log json_close object; }
procd_set_config_changed() { _shim_log config_changed "$@"; }
