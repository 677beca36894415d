# Test stand-in for the parts of OpenWrt's /lib/functions.sh that init scripts
# use to read UCI: config_load (through `uci -n export`, as uci_load does),
# the config/option/list callbacks it evaluates, config_get,
# config_get_bool and config_foreach. Values land in CONFIG_<section>_<option> variables; list
# items are joined by spaces. POSIX sh, so it runs under dash.

_shim_cfg_count=0
_shim_cfg_section=
_shim_cfg_sections=

package() { :; }

config() {
	_shim_cfg_count=$((_shim_cfg_count + 1))
	_shim_cfg_section="${2:-cfg$_shim_cfg_count}"
	_shim_cfg_sections="$_shim_cfg_sections $_shim_cfg_section"
	eval "CONFIG_${_shim_cfg_section}_TYPE=\$1"
}

option() {
	local _name="$1"
	shift
	eval "CONFIG_${_shim_cfg_section}_${_name}=\$*"
}

list() {
	local _name="$1" _old
	shift
	eval "_old=\${CONFIG_${_shim_cfg_section}_${_name}}"
	eval "CONFIG_${_shim_cfg_section}_${_name}=\"\${_old:+\$_old }\$*\""
}

config_load() {
	local _data
	_data="$(uci -n export "$1" 2>/dev/null)" || return 1
	_shim_cfg_sections=
	_shim_cfg_count=0
	eval "$_data"
}

# config_get <variable> <section> <option> [<default>] | config_get <section> <option>
config_get() {
	case "$#" in
		2) eval "echo \"\${CONFIG_${1}_${2}}\"" ;;
		*) eval "$1=\${CONFIG_${2}_${3}:-\$4}" ;;
	esac
}

# config_get_bool <variable> <section> <option> [<default>]
config_get_bool() {
	local _v
	config_get _v "$2" "$3" "$4"
	case "$_v" in
		1|on|true|yes|enabled) _v=1 ;;
		0|off|false|no|disabled) _v=0 ;;
		*) _v="$4" ;;
	esac
	eval "$1=\$_v"
}

# config_foreach <function> [<type>]: function <section> for each section (of that type), in order
config_foreach() {
	local _fn="$1" _type="$2" _s _t
	for _s in $_shim_cfg_sections; do
		eval "_t=\${CONFIG_${_s}_TYPE}"
		[ -z "$_type" ] || [ "$_t" = "$_type" ] || continue
		"$_fn" "$_s"
	done
}
