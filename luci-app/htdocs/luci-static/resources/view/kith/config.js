'use strict';
'require view';
'require form';
'require validation';

/*
 * Kith settings: /etc/config/kith as a form. Save & Apply commits the file and
 * procd's reload trigger on "kith" makes kithd re-read it; tunnels stay up.
 * Each check below mirrors what kithd accepts, as kithd refuses a file with
 * any error as a whole and keeps its running settings.
 */

/* A DNS label: how nodes and services are called in the mesh (src/uci/values.ts DNS_LABEL). */
function validateLabel(section_id, value) {
	if (value == null || value === '')
		return true;

	if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(value))
		return _('Expecting: %s').format(_('1-63 letters, digits or "-", not starting or ending with "-"'));

	return true;
}

function parseAddress(text) {
	var v4 = validation.parseIPv4(text);

	if (v4)
		return { bits: 32, words: v4, wordBits: 8 };

	var v6 = validation.parseIPv6(text);

	return v6 ? { bits: 128, words: v6, wordBits: 16 } : null;
}

/* An IP address with an optional #port, as dnsmasq writes upstream servers. */
function validateUpstream(section_id, value) {
	if (value == null || value === '')
		return true;

	var m = value.match(/^([^#]+)(?:#(\d{1,5}))?$/);

	if (!m || !parseAddress(m[1]) || (m[2] != null && (+m[2] < 1 || +m[2] > 65535)))
		return _('Expecting: %s').format(_('an IP address with an optional #port, e.g. 9.9.9.9 or 2620:fe::fe#53'));

	return true;
}

/* The datatype "cidr" accepts host bits; kithd wants the network address itself. */
function validateNetwork(section_id, value) {
	var m = (value || '').match(/^([^/]+)\/(\d{1,3})$/);
	var addr = m ? parseAddress(m[1]) : null;

	if (!addr)
		return true;

	var len = +m[2];

	for (var i = 0; i < addr.words.length; i++) {
		var keep = Math.min(addr.wordBits, Math.max(0, len - i * addr.wordBits));

		if (addr.words[i] % Math.pow(2, addr.wordBits - keep) != 0)
			return _('Expecting: %s').format(_('a network address without host bits, e.g. 192.168.1.0/24'));
	}

	/* Members refuse anything wider (kithd's config check also refuses reserved ranges and the mesh's own pool). */
	if (len < (addr.bits == 32 ? 8 : 16))
		return _('Expecting: %s').format(_('a network of at least /8 (IPv6: /16)'));

	return true;
}

return view.extend({
	render: function() {
		var m, s, o;

		m = new form.Map('kith', _('Kith'),
			_('Settings of kithd, the Kith neighbourhood mesh VPN. Save & Apply makes kithd re-read them; tunnels stay up. Joining or founding a network is done on the Join / Create page.'));

		s = m.section(form.NamedSection, 'main', 'kith', _('General Settings'));

		o = s.option(form.Flag, 'enabled', _('Enabled'),
			_('Unchecked stops kithd and keeps it from starting at boot.'));
		o.default = o.enabled;
		o.rmempty = false;

		o = s.option(form.Value, 'node_name', _('Node name'),
			_('This node\'s name in the mesh, used when joining or founding a network (default: the hostname).'));
		o.validate = validateLabel;

		o = s.option(form.DynamicList, 'endpoint', _('Public endpoints'),
			_('Addresses neighbours can reach this node at, as host:port (IPv6 in brackets).'));
		o.datatype = 'or(hostport,ipaddrport(1))';
		o.placeholder = '203.0.113.7:51820';

		o = s.option(form.Value, 'listen_port', _('Listen port'),
			_('UDP for WireGuard and TCP for joining neighbours. The firewall rule "Allow-Kith" opens this port from wan; change it there too.'));
		o.datatype = 'port';
		o.placeholder = '51820';

		o = s.option(form.Flag, 'portmap', _('Port mapping'),
			_('Ask the router in front of this one (UPnP-IGD, NAT-PMP or PCP) to forward the listen port, and tell neighbours the forwarded address: behind a strict NAT that makes direct paths possible.'));
		o.default = o.enabled;
		o.rmempty = false;

		o = s.option(form.Value, 'ifname', _('Interface'),
			_('The WireGuard interface kithd creates (also the device of the firewall zone).'));
		o.datatype = 'netdevname';
		o.placeholder = 'kith0';

		o = s.option(form.ListValue, 'log_level', _('Log level'),
			_('The log goes to syslog (logread -e kithd).'));
		o.value('debug', _('Debug'));
		o.value('info', _('Info'));
		o.value('warn', _('Warning'));
		o.value('error', _('Error'));
		o.default = 'info';

		s = m.section(form.NamedSection, 'dns', 'dns', _('DNS'),
			_('Names of the mesh, served under the network\'s zone (&lt;network&gt;.internal); dnsmasq forwards that domain here.'));

		o = s.option(form.Flag, 'enabled', _('Enabled'));
		o.default = o.enabled;
		o.rmempty = false;

		o = s.option(form.Value, 'port', _('Port'));
		o.datatype = 'port';
		o.placeholder = '5353';

		o = s.option(form.DynamicList, 'listen', _('Listen addresses'),
			_('IP addresses to answer on; "overlay" means this node\'s mesh addresses (default: 127.0.0.1 and overlay).'));
		o.datatype = "or(ipaddr(1),'overlay')";
		o.placeholder = '127.0.0.1';

		o = s.option(form.Flag, 'forward', _('Forward other names'),
			_('Also answer names outside the mesh, through the upstream servers below.'));
		o.default = o.disabled;

		o = s.option(form.DynamicList, 'upstream', _('Upstream servers'),
			_('IP addresses with an optional #port, e.g. 9.9.9.9 or 2620:fe::fe#53.'));
		o.validate = validateUpstream;
		o.placeholder = '9.9.9.9';
		o.depends('forward', '1');

		s = m.section(form.TypedSection, 'subnet', _('Advertised LAN networks'),
			_('Networks behind this router that the mesh may reach through it.'));
		s.anonymous = true;
		s.addremove = true;

		o = s.option(form.Value, 'prefix', _('Network'));
		o.datatype = 'cidr';
		o.validate = validateNetwork;
		o.placeholder = '192.168.1.0/24';
		o.rmempty = false;

		s = m.section(form.TypedSection, 'service', _('Services'),
			_('Services on this node or on a device of its LAN, published in the mesh\'s DNS.'));
		s.anonymous = true;
		s.addremove = true;

		o = s.option(form.Value, 'name', _('Name'));
		o.validate = validateLabel;
		o.placeholder = 'nas';
		o.rmempty = false;

		o = s.option(form.Value, 'port', _('Port'));
		o.datatype = 'port';
		o.placeholder = '445';
		o.rmempty = false;

		o = s.option(form.ListValue, 'proto', _('Protocol'));
		o.value('tcp', 'TCP');
		o.value('udp', 'UDP');
		o.default = 'tcp';

		o = s.option(form.Value, 'type', _('Type'),
			_('Optional, e.g. smb or http.'));
		o.validate = validateLabel;

		o = s.option(form.Value, 'host', _('LAN host'),
			_('Optional: the address of the device on one of the networks above that runs it (empty: this router). Members whose LAN clashes with this one reach it through its mapped block, and the name resolves there.'));
		o.datatype = 'ip4addr("nomask")';
		o.placeholder = '192.168.1.20';

		return m.render();
	}
});
