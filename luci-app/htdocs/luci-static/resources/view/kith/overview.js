'use strict';
'require view';
'require rpc';
'require poll';
'require dom';
'require ui';
'require uci';
'require kith.common as kc';

/*
 * Kith overview: this node and the mesh at a glance. A map of the members
 * (direct links solid, relayed ones dashed through their relay, exits
 * marked), the peers with path, endpoint, handshake and traffic, the
 * services this node publishes, and the diagnostics (dropped input, DNS)
 * folded away at the bottom. Refreshed every 5 s.
 */

var callPeers = rpc.declare({
	object: 'kith',
	method: 'peers',
	expect: { peers: [] }
});

var callExits = rpc.declare({
	object: 'kith',
	method: 'exits',
	expect: { exits: [] }
});

var callServices = rpc.declare({
	object: 'kith',
	method: 'services',
	expect: { services: [] }
});

var callServiceAdd = rpc.declare({
	object: 'kith',
	method: 'service_add',
	params: [ 'name', 'port', 'proto', 'type', 'host' ],
	reject: true
});

var callServiceRm = rpc.declare({
	object: 'kith',
	method: 'service_rm',
	params: [ 'name' ],
	reject: true
});

var DROPPED_LABELS = {
	malformed: _('Malformed records'),
	badSignature: _('Bad signatures'),
	stale: _('Stale records'),
	unknownSigner: _('Unknown signers'),
	oversize: _('Oversized records'),
	expired: _('Expired certificates'),
	invalidChain: _('Invalid certificate chains'),
	tooMany: _('Over the record limit'),
	failed: _('Failed while handling'),
	nonMember: _('From non-members'),
	rateLimited: _('Over the rate limit'),
	duplicateKey: _('Duplicate WireGuard keys'),
	knownBad: _('Replayed bad records'),
	departed: _('Departed members'),
	overQuota: _('Over an admitter\'s quota'),
	forger: _('From members that forge records'),
	revoked: _('Revoked members, or admitted through one')
};

var SVG_NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, children) {
	var n = document.createElementNS(SVG_NS, tag);

	for (var k in attrs)
		n.setAttribute(k, attrs[k]);

	(children || []).forEach(function(c) {
		n.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
	});

	return n;
}

function hoverText(peer, exit) {
	var parts = [ peer.name, kc.pathText(peer) ];

	if (peer.rttMs != null)
		parts.push(_('RTT %d ms').format(peer.rttMs));
	if (exit)
		parts.push(_('offers its uplink (%d Mbit/s)').format(exit.capacityMbit));

	return parts.join(' · ');
}

/* Members on a circle around this node; direct links solid, relayed ones dashed from their relay. */
function renderMap(st, peers, exits) {
	var w = 360, h = 280, cx = w / 2, cy = h / 2, r = Math.min(w, h) / 2 - 44;
	var pos = {}, exitOf = {};
	var links = svg('g', {}), nodes = svg('g', {});

	exits.forEach(function(x) { exitOf[x.name] = x; });
	pos[st.node.name] = [ cx, cy ];
	peers.forEach(function(p, i) {
		var a = 2 * Math.PI * i / Math.max(peers.length, 1) - Math.PI / 2;
		pos[p.name] = [ cx + r * Math.cos(a), cy + r * Math.sin(a) ];
	});

	peers.forEach(function(p) {
		var from = p.path === 'relayed' && pos[p.via] ? pos[p.via] : pos[st.node.name];

		if (p.path === 'unreachable')
			return;

		links.appendChild(svg('line', {
			'x1': from[0], 'y1': from[1], 'x2': pos[p.name][0], 'y2': pos[p.name][1],
			'class': 'kith-link', 'data-path': p.path,
			'stroke': p.path === 'direct' ? '#2a7a2a' : '#c07000', 'stroke-width': 2,
			'stroke-dasharray': p.path === 'direct' ? '' : '6 4'
		}, [ svg('title', {}, [ hoverText(p, exitOf[p.name]) ]) ]));
	});

	var all = [ { name: st.node.name, path: 'self' } ].concat(peers);

	all.forEach(function(p) {
		var xy = pos[p.name], exit = exitOf[p.name];
		var fill = { self: '#0069d6', direct: '#2a7a2a', relayed: '#c07000' }[p.path] || '#999';

		nodes.appendChild(svg('g', { 'class': 'kith-node', 'data-name': p.name, 'data-path': p.path, 'data-exit': exit ? '1' : '0' }, [
			svg('title', {}, [ p.path === 'self' ? _('%s (this node)').format(p.name) : hoverText(p, exit) ]),
			svg('circle', { 'cx': xy[0], 'cy': xy[1], 'r': p.path === 'self' ? 16 : 12, 'fill': fill,
				'stroke': exit ? '#000' : '#fff', 'stroke-width': exit ? 3 : 2 }),
			svg('text', { 'x': xy[0], 'y': xy[1] + (p.path === 'self' ? 30 : 26), 'text-anchor': 'middle', 'font-size': 12 },
				[ exit ? _('%s (exit)').format(p.name) : p.name ])
		]));
	});

	return E('div', { 'style': 'max-width:480px' }, [
		svg('svg', { 'id': 'kith-map', 'viewBox': '0 0 ' + w + ' ' + h, 'width': '100%', 'role': 'img' }, [ links, nodes ]),
		E('p', { 'class': 'cbi-value-description' }, [
			_('Solid: direct WireGuard link. Dashed: relayed through another member. Grey: unreachable. A black ring marks a member offering its uplink.')
		])
	]);
}

/* Why a peer is not direct: relayed or unreachable, with what kithd knows about it. */
function whyNotDirect(p) {
	/* kithd's own reading of the evidence (endpoints, punch attempts, handshakes), when it gives one. */
	if (p.whyNotDirect && p.path === 'relayed')
		return _('%s is relayed via %s: %s').format(p.name, p.via || '?', p.whyNotDirect);
	if (p.whyNotDirect)
		return _('%s is unreachable: %s').format(p.name, p.whyNotDirect);

	if (p.path === 'relayed')
		return _('No direct WireGuard handshake with %s: both sides are likely behind NATs that do not let UDP through from outside, so traffic goes via %s.').format(p.name, p.via || '?');

	return _('Neither a direct link nor a relay reaches %s: it may be offline (last handshake: %s).').format(p.name, kc.age(p.lastHandshakeSec));
}

function renderPeers(peers) {
	var t = new ui.Table([
		_('Name'), _('IPv4'), _('Path'), _('Endpoint'), _('RTT'), _('Latest Handshake'), _('Received'), _('Transmitted')
	], { id: 'kith-peers' }, kc.placeholder(_('No peers yet')));

	t.update(peers.map(function(p) {
		return [
			p.name,
			p.ipv4,
			p.path === 'direct' ? kc.pathText(p) : E('span', { 'title': whyNotDirect(p) }, [ kc.pathText(p) ]),
			p.endpoint || '-',
			[ p.rttMs != null ? p.rttMs : Infinity, p.rttMs != null ? _('%d ms').format(p.rttMs) : '-' ],
			[ p.lastHandshakeSec != null ? p.lastHandshakeSec : Infinity, kc.age(p.lastHandshakeSec) ],
			[ +p.rxBytes, '%1024mB'.format(+p.rxBytes) ],
			[ +p.txBytes, '%1024mB'.format(+p.txBytes) ]
		];
	}), kc.placeholder(_('No peers yet')));

	var notDirect = peers.filter(function(p) { return p.path !== 'direct'; });

	return E([], [
		t.render(),
		notDirect.length ? E('ul', { 'id': 'kith-why' }, notDirect.map(function(p) { return E('li', [ whyNotDirect(p) ]); })) : ''
	]);
}

function renderDiagnostics(st) {
	var dns = st.dns || {};
	var rows = [
		[ _('DNS enabled'), dns.enabled ? _('yes') : _('no') ],
		[ _('DNS listening on'), (Array.isArray(dns.listen) && dns.listen.length) ? dns.listen.join(', ') : '-' ]
	];

	if (L.isObject(dns.stats)) {
		rows.push([ _('DNS queries'), '%d'.format((dns.stats.udpQueries || 0) + (dns.stats.tcpQueries || 0)) ]);
		rows.push([ _('DNS forwarded'), _('%d (%d failed)').format(dns.stats.forwarded || 0, dns.stats.forwardFailed || 0) ]);
	}

	var refused = (L.isObject(st.routes) && Array.isArray(st.routes.refused)) ? st.routes.refused : [];
	refused.forEach(function(r) {
		rows.push([ _('Not routed: %s (%s)').format(r.prefix, r.node), r.reason ]);
	});

	if (L.isObject(st.dropped))
		Object.keys(st.dropped).forEach(function(k) {
			rows.push([ _('Dropped: %s').format(DROPPED_LABELS[k] || k), '%d'.format(st.dropped[k]) ]);
		});

	return kc.keyValueTable(rows);
}

return view.extend({
	load: function() {
		return Promise.all([ L.resolveDefault(uci.load('kith'), null), this.fetchAll() ]);
	},

	/* [status, peers, exits, services]; the lists only for a member. */
	fetchAll: function() {
		return kc.status().then(function(st) {
			var member = kc.isMember(st);

			return Promise.all([ st, member ? callPeers() : [], member ? callExits() : [], member ? callServices() : [] ]);
		});
	},

	refresh: function() {
		return this.fetchAll().then(L.bind(function(d) { this.update(d[0], d[1], d[2], d[3]); }, this));
	},

	update: function(st, peers, exits, services) {
		var member = kc.isMember(st);

		this.memberNode.style.display = member ? '' : 'none';
		dom.content(this.stateNode, member ? '' : kc.notMember(st));

		if (!member)
			return;

		var node = st.node || {}, net = st.network || {};

		dom.content(this.nodeTable, kc.keyValueTable([
			[ _('State'), kc.stateText(st.state) ],
			st.error ? [ _('Error'), st.error ] : null,
			[ _('Name'), node.name ],
			[ _('Addresses'), [ node.ipv4, node.ipv6 ].filter(Boolean).join(', ') ],
			[ _('Network'), _('%s (names under %s)').format(net.name, net.zone) ],
			[ _('Role'), node.admin ? _('Administrator') : _('Member') ],
			[ _('Reachable peers'), _('%d of %d').format(st.reachable || 0, st.peers || 0) ],
			L.isObject(st.exit) && st.exit.via ? [ _('Uplink in use'), st.exit.via ] : null
		]));
		dom.content(this.mapNode, renderMap(st, peers, exits));
		dom.content(this.peersNode, renderPeers(peers));
		dom.content(this.servicesTable, this.renderServices(services));
		dom.content(this.diagNode, renderDiagnostics(st));
	},

	/* Services from /etc/config/kith are changed on the Settings page, not through service_rm. */
	configServices: function() {
		try {
			return uci.sections('kith', 'service').map(function(s) { return String(s.name || '').toLowerCase(); });
		}
		catch (e) {
			return [];
		}
	},

	renderServices: function(services) {
		var fromConfig = this.configServices(), write = kc.mayWrite();
		var t = new ui.Table([ _('Name'), _('Port'), _('Protocol'), _('Type'), _('Host'), write ? '' : null ],
			{ id: 'kith-services' }, kc.placeholder(_('This node publishes no services')));

		t.update(services.map(L.bind(function(svc) {
			var inConfig = fromConfig.indexOf(String(svc.name).toLowerCase()) >= 0;
			var row = [ svc.name, svc.port, svc.proto, svc.type || '-', svc.host || _('this router') ];

			if (write)
				row.push(inConfig ? E('em', [ _('in Settings') ]) : E('button', {
					'class': 'btn cbi-button cbi-button-remove',
					'click': ui.createHandlerFn(this, 'handleServiceRm', svc.name)
				}, [ _('Remove') ]));

			return row;
		}, this)), kc.placeholder(_('This node publishes no services')));

		return t.render();
	},

	handleServiceAdd: function() {
		var name = this.svcName.value.trim(), port = parseInt(this.svcPort.value, 10);

		if (name === '' || !(port >= 1 && port <= 65535)) {
			kc.message(this.svcMsg, 'warning', _('A service needs a name and a port between 1 and 65535.'));
			return Promise.resolve();
		}

		return callServiceAdd(name, port, this.svcProto.value, kc.optional(this.svcType.value), kc.optional(this.svcHost.value)).then(kc.checked).then(L.bind(function() {
			this.svcName.value = this.svcPort.value = this.svcType.value = this.svcHost.value = '';
			kc.message(this.svcMsg, 'success', _('Service "%s" published.').format(name));
			return this.refresh();
		}, this)).catch(L.bind(function(err) {
			kc.message(this.svcMsg, 'warning', _('Adding the service failed: %s').format(kc.errorText(err)));
		}, this));
	},

	handleServiceRm: function(name) {
		return callServiceRm(name).then(kc.checked).then(L.bind(function() {
			kc.message(this.svcMsg, 'success', _('Service "%s" removed.').format(name));
			return this.refresh();
		}, this)).catch(L.bind(function(err) {
			kc.message(this.svcMsg, 'warning', _('Removing the service failed: %s').format(kc.errorText(err)));
		}, this));
	},

	renderServiceForm: function() {
		this.svcName = E('input', { 'id': 'kith-svc-name', 'class': 'cbi-input-text', 'type': 'text', 'placeholder': _('e.g. nas') });
		this.svcPort = E('input', { 'id': 'kith-svc-port', 'class': 'cbi-input-text', 'type': 'number', 'min': 1, 'max': 65535, 'placeholder': _('e.g. 445') });
		this.svcProto = E('select', { 'class': 'cbi-input-select' }, [
			E('option', { 'value': 'tcp' }, [ _('TCP') ]),
			E('option', { 'value': 'udp' }, [ _('UDP') ])
		]);
		this.svcType = E('input', { 'class': 'cbi-input-text', 'type': 'text', 'placeholder': _('optional, e.g. smb') });
		this.svcHost = E('input', { 'id': 'kith-svc-host', 'class': 'cbi-input-text', 'type': 'text', 'placeholder': _('optional: a LAN device, e.g. 192.168.1.20') });

		if (!kc.mayWrite())
			return '';

		return E([], [
			kc.row(_('Name'), this.svcName),
			kc.row(_('Port'), this.svcPort),
			kc.row(_('Protocol'), this.svcProto),
			kc.row(_('Type'), this.svcType),
			kc.row(_('LAN host'), this.svcHost),
			E('div', { 'class': 'cbi-page-actions' }, [
				E('button', { 'class': 'btn cbi-button cbi-button-add', 'click': ui.createHandlerFn(this, 'handleServiceAdd') }, [ _('Add service') ])
			])
		]);
	},

	render: function(data) {
		this.stateNode = E('div');
		this.nodeTable = E('div');
		this.mapNode = E('div');
		this.peersNode = E('div');
		this.servicesTable = E('div');
		this.svcMsg = E('div');
		this.diagNode = E('div');

		this.memberNode = E('div', { 'style': 'display:none' }, [
			E('div', { 'class': 'cbi-section' }, [ E('h3', [ _('This node') ]), this.nodeTable ]),
			E('div', { 'class': 'cbi-section' }, [ E('h3', [ _('Mesh') ]), this.mapNode ]),
			E('div', { 'class': 'cbi-section' }, [ E('h3', [ _('Peers') ]), this.peersNode ]),
			E('div', { 'class': 'cbi-section' }, [
				E('h3', [ _('Services') ]),
				E('p', [ _('Services of this node, published in the mesh\'s DNS. Those defined on the Settings page are changed there.') ]),
				this.servicesTable,
				this.renderServiceForm(),
				this.svcMsg
			]),
			E('details', { 'id': 'kith-diag', 'class': 'cbi-section' }, [
				E('summary', [ _('Diagnostics: DNS, routes and dropped input') ]),
				this.diagNode
			])
		]);

		var page = E([], [
			E('h2', [ _('Kith') ]),
			E('div', { 'class': 'cbi-map-descr' }, [ _('Kith joins neighbours\' routers into one private mesh network over WireGuard.') ]),
			this.stateNode,
			this.memberNode
		]);

		var d = data[1];
		this.update(d[0], d[1], d[2], d[3]);
		poll.add(L.bind(this.refresh, this), 5);

		return page;
	},

	handleSaveApply: null,
	handleSave: null,
	handleReset: null
});
