'use strict';
'require view';
'require rpc';
'require poll';
'require dom';
'require ui';
'require uci';

/*
 * Kith status: this node, its peers, DNS and the counters of dropped input,
 * refreshed every 5 s; joining or founding a network while the node is not a
 * member yet; invites for members that may admit; the services this node
 * publishes. Everything goes through the ubus object "kith" of kithd.
 */

var callStatus = rpc.declare({
	object: 'kith',
	method: 'status'
});

var callPeers = rpc.declare({
	object: 'kith',
	method: 'peers',
	expect: { peers: [] }
});

var callInvites = rpc.declare({
	object: 'kith',
	method: 'invites',
	expect: { invites: [] }
});

var callServices = rpc.declare({
	object: 'kith',
	method: 'services',
	expect: { services: [] }
});

var callJoin = rpc.declare({
	object: 'kith',
	method: 'join',
	params: [ 'code', 'nodeName' ],
	reject: true
});

var callInit = rpc.declare({
	object: 'kith',
	method: 'init',
	params: [ 'network', 'nodeName', 'endpoint' ],
	reject: true
});

var callInvite = rpc.declare({
	object: 'kith',
	method: 'invite',
	params: [ 'name', 'expires', 'admin' ],
	reject: true
});

var callServiceAdd = rpc.declare({
	object: 'kith',
	method: 'service_add',
	params: [ 'name', 'port', 'proto', 'type' ],
	reject: true
});

var callServiceRm = rpc.declare({
	object: 'kith',
	method: 'service_rm',
	params: [ 'name' ],
	reject: true
});

var callReload = rpc.declare({
	object: 'kith',
	method: 'reload',
	reject: true
});

/* A failed operation comes back as {error: "one-line reason"} with ubus status 0. */
function checked(res) {
	if (L.isObject(res) && res.error != null)
		throw new Error(res.error);

	return res;
}

function errorText(err) {
	return (err && err.message) ? err.message : String(err);
}

/* Optional text fields: empty means "not given" (left out of the ubus call). */
function optional(value) {
	var v = (value || '').trim();
	return v !== '' ? v : undefined;
}

function showMessage(node, kind, text) {
	dom.content(node, text ? E('div', { 'class': 'alert-message ' + kind }, [ text ]) : '');
}

function ageToStr(sec) {
	if (sec == null)
		return _('Never', 'No WireGuard handshake with this peer yet');

	if (sec < 60)
		return _('%ds ago').format(sec);
	else if (sec < 3600)
		return _('%dm ago').format(sec / 60);
	else if (sec < 86400)
		return _('%dh ago').format(sec / 3600);

	return _('over a day ago');
}

function pathToStr(peer) {
	switch (peer.path) {
	case 'direct':
		return _('direct');
	case 'relayed':
		return peer.via ? _('relayed via %s').format(peer.via) : _('relayed');
	default:
		return E('em', [ _('unreachable') ]);
	}
}

function stateToStr(state) {
	switch (state) {
	case 'running':
		return _('Running');
	case 'degraded':
		return _('Degraded');
	case 'unconfigured':
		return _('Not a member of any network');
	default:
		return state;
	}
}

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

function keyValueTable(rows) {
	return E('table', { 'class': 'table' }, rows.filter(function(r) { return r != null; }).map(function(r) {
		return E('tr', { 'class': 'tr' }, [
			E('td', { 'class': 'td left', 'width': '33%' }, [ r[0] ]),
			E('td', { 'class': 'td left' }, [ r[1] ])
		]);
	}));
}

function emptyPlaceholder(text) {
	return E('em', [ text ]);
}

function renderPeerTable(peers) {
	var t = new ui.Table([
		_('Name'),
		_('IPv4'),
		_('Path'),
		_('Endpoint'),
		_('RTT'),
		_('Latest Handshake'),
		_('Received'),
		_('Transmitted')
	], { id: 'kith-peers' }, emptyPlaceholder(_('No peers yet')));

	t.update(peers.map(function(peer) {
		return [
			peer.name,
			peer.ipv4,
			pathToStr(peer),
			peer.endpoint || '-',
			[ peer.rttMs != null ? peer.rttMs : Infinity, peer.rttMs != null ? _('%d ms').format(peer.rttMs) : '-' ],
			[ peer.lastHandshakeSec != null ? peer.lastHandshakeSec : Infinity, ageToStr(peer.lastHandshakeSec) ],
			[ +peer.rxBytes, '%1024mB'.format(+peer.rxBytes) ],
			[ +peer.txBytes, '%1024mB'.format(+peer.txBytes) ]
		];
	}));

	return t.render();
}

function renderStatus(st, peers) {
	if (!L.isObject(st))
		return E('p', { 'class': 'alert-message warning' }, [
			_('kithd is not running or not registered on ubus (/etc/init.d/kith start; logread -e kithd).')
		]);

	var node = st.node || {};
	var net = st.network || {};
	var member = st.state !== 'unconfigured';
	var dns = st.dns || {};
	var res = [];

	res.push(E('h3', [ _('This node') ]));
	res.push(keyValueTable([
		[ _('State'), stateToStr(st.state) ],
		st.error ? [ _('Error'), st.error ] : null,
		member ? [ _('Name'), node.name ] : null,
		member ? [ _('Addresses'), [ node.ipv4, node.ipv6 ].filter(Boolean).join(', ') ] : null,
		member ? [ _('Network'), net.name ] : null,
		member ? [ _('Zone'), net.zone ] : null,
		member ? [ _('Address pool'), [ net.ipv4Pool, net.ula48 ].filter(Boolean).join(', ') ] : null,
		member ? [ _('Role'), node.admin ? _('Administrator') : _('Member') ] : null,
		member ? [ _('Reachable peers'), _('%d of %d').format(st.reachable || 0, st.peers || 0) ] : null,
		member && Array.isArray(node.endpoints) ? [ _('Endpoints'), node.endpoints.length ? node.endpoints.join(', ') : '-' ] : null,
		[ _('Interface'), st.config ? _('%s, port %d').format(st.config.ifname, st.config.listenPort) : '-' ]
	]));

	if (member) {
		res.push(E('h3', [ _('Peers') ]));
		res.push(renderPeerTable(peers));
	}

	res.push(E('h3', [ _('DNS') ]));
	res.push(keyValueTable([
		[ _('Enabled'), dns.enabled ? _('yes') : _('no') ],
		[ _('Listening on'), (Array.isArray(dns.listen) && dns.listen.length) ? dns.listen.join(', ') : '-' ],
		L.isObject(dns.stats) ? [ _('Queries'), '%d'.format((dns.stats.udpQueries || 0) + (dns.stats.tcpQueries || 0)) ] : null,
		L.isObject(dns.stats) ? [ _('Forwarded'), _('%d (%d failed)').format(dns.stats.forwarded || 0, dns.stats.forwardFailed || 0) ] : null
	]));

	/* Prefixes members advertise that this node does not route; the reasons come from kithd. */
	var refused = (L.isObject(st.routes) && Array.isArray(st.routes.refused)) ? st.routes.refused : [];
	if (refused.length) {
		res.push(E('h3', [ _('Networks not routed') ]));
		res.push(keyValueTable(refused.map(function(r) {
			return [ E([], [ r.prefix, ' (', r.node, ')' ]), r.reason ];
		})));
	}

	if (L.isObject(st.dropped)) {
		res.push(E('h3', [ _('Dropped input') ]));
		res.push(keyValueTable(Object.keys(st.dropped).map(function(k) {
			return [ DROPPED_LABELS[k] || k, '%d'.format(st.dropped[k]) ];
		})));
	}

	return E([], res);
}

return view.extend({
	load: function() {
		return Promise.all([
			L.resolveDefault(uci.load('kith'), null),
			this.fetchAll()
		]);
	},

	/* Services from /etc/config/kith are changed there, not through service_rm. */
	configServices: function() {
		try {
			return uci.sections('kith', 'service').map(function(s) {
				return String(s.name || '').toLowerCase();
			});
		}
		catch (e) {
			return [];
		}
	},

	mayAdmit: function(st) {
		return L.isObject(st) && st.state !== 'unconfigured' && L.isObject(st.node) &&
			(st.node.admin || (L.isObject(st.network) && st.network.policy === 'any'));
	},

	/* [status, peers, invites, services]; the lists only where they make sense. */
	fetchAll: function() {
		return callStatus().then(L.bind(function(st) {
			var member = L.isObject(st) && st.state !== 'unconfigured';

			return Promise.all([
				st,
				member ? callPeers() : [],
				this.mayAdmit(st) ? callInvites() : [],
				L.isObject(st) ? callServices() : []
			]);
		}, this));
	},

	refresh: function() {
		return this.fetchAll().then(L.bind(function(data) {
			this.update(data[0], data[1], data[2], data[3]);
		}, this));
	},

	update: function(st, peers, invites, services) {
		var member = L.isObject(st) && st.state !== 'unconfigured';

		dom.content(this.statusNode, renderStatus(st, peers));

		this.onboardNode.style.display = (L.isObject(st) && !member) ? '' : 'none';
		this.inviteNode.style.display = this.mayAdmit(st) ? '' : 'none';
		this.inviteAdmin.style.display = (member && st.node && st.node.admin) ? '' : 'none';
		this.servicesNode.style.display = L.isObject(st) ? '' : 'none';

		dom.content(this.invitesTable, this.renderInvites(invites));
		dom.content(this.servicesTable, this.renderServices(services));
	},

	renderInvites: function(invites) {
		var t = new ui.Table([
			_('ID'),
			_('Name'),
			_('Administrator'),
			_('Expires'),
			_('Used by')
		], { id: 'kith-invites' }, emptyPlaceholder(_('No pending invites')));

		t.update(invites.map(function(inv) {
			return [
				E('code', [ inv.id ]),
				inv.name || '-',
				inv.admin ? _('yes') : _('no'),
				[ inv.expiresAtMs, new Date(inv.expiresAtMs).toLocaleString() ],
				inv.usedBy || '-'
			];
		}));

		return t.render();
	},

	renderServices: function(services) {
		var fromConfig = this.configServices();
		var t = new ui.Table([
			_('Name'),
			_('Port'),
			_('Protocol'),
			_('Type'),
			''
		], { id: 'kith-services', sortable: [ true, true, true, true, false ] }, emptyPlaceholder(_('This node publishes no services')));

		t.update(services.map(L.bind(function(svc) {
			var inConfig = fromConfig.indexOf(String(svc.name).toLowerCase()) >= 0;

			return [
				svc.name,
				svc.port,
				svc.proto,
				svc.type || '-',
				inConfig
					? E('em', [ _('in Settings') ])
					: E('button', {
						'class': 'btn cbi-button cbi-button-remove',
						'click': ui.createHandlerFn(this, 'handleServiceRm', svc.name)
					}, [ _('Remove') ])
			];
		}, this)));

		return t.render();
	},

	handleJoin: function() {
		var code = this.joinCode.value.trim();

		if (code === '') {
			showMessage(this.joinMsg, 'warning', _('Paste the invite code first.'));
			return Promise.resolve();
		}

		showMessage(this.joinMsg, 'notice', _('Joining… this can take a few seconds.'));

		return callJoin(code, optional(this.joinName.value)).then(checked).then(L.bind(function(st) {
			var net = (L.isObject(st) && L.isObject(st.network)) ? st.network.name : '?';
			var name = (L.isObject(st) && L.isObject(st.node)) ? st.node.name : '?';

			this.joinCode.value = '';
			showMessage(this.joinMsg, '', '');
			ui.addNotification(null, E('p', [ _('Joined network "%s" as "%s".').format(net, name) ]), 'info');

			return this.refresh();
		}, this)).catch(L.bind(function(err) {
			showMessage(this.joinMsg, 'warning', _('Joining failed: %s').format(errorText(err)));
		}, this));
	},

	handleInit: function() {
		var network = this.initNetwork.value.trim();

		if (network === '') {
			showMessage(this.initMsg, 'warning', _('Choose a name for the network first.'));
			return Promise.resolve();
		}

		return callInit(network, optional(this.initName.value), optional(this.initEndpoint.value)).then(checked).then(L.bind(function(st) {
			var zone = (L.isObject(st) && L.isObject(st.network)) ? st.network.zone : '?';

			showMessage(this.initMsg, '', '');
			ui.addNotification(null, E('p', [ _('Created network "%s"; its names are under "%s".').format(network, zone) ]), 'info');

			return this.refresh();
		}, this)).catch(L.bind(function(err) {
			showMessage(this.initMsg, 'warning', _('Creating the network failed: %s').format(errorText(err)));
		}, this));
	},

	handleInvite: function() {
		var admin = this.inviteAdmin.style.display !== 'none' && this.inviteAdminBox.checked;

		return callInvite(optional(this.inviteName.value), this.inviteExpires.value, admin).then(checked).then(L.bind(function(res) {
			this.inviteCode.value = res.code;
			this.inviteResult.style.display = '';
			showMessage(this.inviteMsg, 'success', _('Give this code to your neighbour; it can be used once, until %s (reaching %s).')
				.format(new Date(res.expiresAtMs).toLocaleString(), (res.endpoints || []).join(', ') || '-'));

			return this.refresh();
		}, this)).catch(L.bind(function(err) {
			this.inviteResult.style.display = 'none';
			showMessage(this.inviteMsg, 'warning', _('Creating the invite failed: %s').format(errorText(err)));
		}, this));
	},

	handleCopy: function() {
		var code = this.inviteCode.value;

		this.inviteCode.select();

		var copied = (navigator.clipboard && window.isSecureContext)
			? navigator.clipboard.writeText(code)
			: Promise.resolve().then(function() {
				if (!document.execCommand('copy'))
					throw new Error(_('the browser refused'));
			});

		return copied.then(L.bind(function() {
			showMessage(this.copyMsg, 'success', _('Copied.'));
		}, this)).catch(L.bind(function(err) {
			showMessage(this.copyMsg, 'warning', _('Copy the selected code by hand (%s).').format(errorText(err)));
		}, this));
	},

	handleServiceAdd: function() {
		var name = this.svcName.value.trim();
		var port = parseInt(this.svcPort.value, 10);

		if (name === '' || !(port >= 1 && port <= 65535)) {
			showMessage(this.svcMsg, 'warning', _('A service needs a name and a port between 1 and 65535.'));
			return Promise.resolve();
		}

		return callServiceAdd(name, port, this.svcProto.value, optional(this.svcType.value)).then(checked).then(L.bind(function() {
			this.svcName.value = '';
			this.svcPort.value = '';
			this.svcType.value = '';
			showMessage(this.svcMsg, 'success', _('Service "%s" published.').format(name));

			return this.refresh();
		}, this)).catch(L.bind(function(err) {
			showMessage(this.svcMsg, 'warning', _('Adding the service failed: %s').format(errorText(err)));
		}, this));
	},

	handleServiceRm: function(name) {
		return callServiceRm(name).then(checked).then(L.bind(function() {
			showMessage(this.svcMsg, 'success', _('Service "%s" removed.').format(name));

			return this.refresh();
		}, this)).catch(L.bind(function(err) {
			showMessage(this.svcMsg, 'warning', _('Removing the service failed: %s').format(errorText(err)));
		}, this));
	},

	handleReload: function() {
		return callReload().then(checked).then(L.bind(function() {
			showMessage(this.reloadMsg, 'success', _('kithd re-read /etc/config/kith.'));

			return this.refresh();
		}, this)).catch(L.bind(function(err) {
			showMessage(this.reloadMsg, 'warning', _('Reloading failed: %s').format(errorText(err)));
		}, this));
	},

	renderOnboard: function() {
		this.joinCode = E('textarea', {
			'class': 'cbi-input-textarea',
			'style': 'width:100%;font-family:monospace',
			'rows': 4,
			'placeholder': _('Paste the invite code you were given')
		});
		this.joinName = E('input', { 'class': 'cbi-input-text', 'type': 'text', 'placeholder': _('default: the hostname') });
		this.joinMsg = E('div');

		this.initNetwork = E('input', { 'class': 'cbi-input-text', 'type': 'text', 'placeholder': _('e.g. our-street') });
		this.initName = E('input', { 'class': 'cbi-input-text', 'type': 'text', 'placeholder': _('default: the hostname') });
		this.initEndpoint = E('input', { 'class': 'cbi-input-text', 'type': 'text', 'placeholder': _('e.g. 203.0.113.7:51820') });
		this.initMsg = E('div');

		return E('div', { 'class': 'cbi-section' }, [
			E('h3', [ _('Join a network') ]),
			E('p', [ _('A member of an existing network gives you an invite code; paste it here.') ]),
			E('div', { 'class': 'cbi-value' }, [
				E('label', { 'class': 'cbi-value-title' }, [ _('Invite code') ]),
				E('div', { 'class': 'cbi-value-field' }, [ this.joinCode ])
			]),
			E('div', { 'class': 'cbi-value' }, [
				E('label', { 'class': 'cbi-value-title' }, [ _('Node name') ]),
				E('div', { 'class': 'cbi-value-field' }, [ this.joinName ])
			]),
			E('div', { 'class': 'cbi-page-actions' }, [
				E('button', {
					'class': 'btn cbi-button cbi-button-action',
					'click': ui.createHandlerFn(this, 'handleJoin')
				}, [ _('Join') ])
			]),
			this.joinMsg,

			E('h3', [ _('Create a network') ]),
			E('p', [ _('Found a new network with this router as its first administrator, then invite your neighbours.') ]),
			E('div', { 'class': 'cbi-value' }, [
				E('label', { 'class': 'cbi-value-title' }, [ _('Network name') ]),
				E('div', { 'class': 'cbi-value-field' }, [ this.initNetwork ])
			]),
			E('div', { 'class': 'cbi-value' }, [
				E('label', { 'class': 'cbi-value-title' }, [ _('Node name') ]),
				E('div', { 'class': 'cbi-value-field' }, [ this.initName ])
			]),
			E('div', { 'class': 'cbi-value' }, [
				E('label', { 'class': 'cbi-value-title' }, [ _('Public endpoint') ]),
				E('div', { 'class': 'cbi-value-field' }, [
					this.initEndpoint,
					E('div', { 'class': 'cbi-value-description' }, [
						_('Optional: the public address:port neighbours can reach this router at.')
					])
				])
			]),
			E('div', { 'class': 'cbi-page-actions' }, [
				E('button', {
					'class': 'btn cbi-button cbi-button-positive',
					'click': ui.createHandlerFn(this, 'handleInit')
				}, [ _('Create') ])
			]),
			this.initMsg
		]);
	},

	renderInvite: function() {
		this.inviteName = E('input', { 'class': 'cbi-input-text', 'type': 'text', 'placeholder': _('optional') });
		this.inviteExpires = E('select', { 'class': 'cbi-input-select' }, [
			E('option', { 'value': '1h' }, [ _('1 hour') ]),
			E('option', { 'value': '24h', 'selected': 'selected' }, [ _('24 hours') ]),
			E('option', { 'value': '7d' }, [ _('7 days') ])
		]);
		this.inviteAdminBox = E('input', { 'type': 'checkbox' });
		this.inviteAdmin = E('div', { 'class': 'cbi-value' }, [
			E('label', { 'class': 'cbi-value-title' }, [ _('Administrator') ]),
			E('div', { 'class': 'cbi-value-field' }, [
				this.inviteAdminBox,
				E('div', { 'class': 'cbi-value-description' }, [ _('The new member may admit others and invite administrators too.') ])
			])
		]);
		this.inviteCode = E('input', {
			'class': 'cbi-input-text',
			'type': 'text',
			'readonly': 'readonly',
			'style': 'width:100%;font-family:monospace',
			'click': function(ev) { ev.target.select(); }
		});
		this.copyMsg = E('div');
		this.inviteResult = E('div', { 'class': 'cbi-value', 'style': 'display:none' }, [
			E('label', { 'class': 'cbi-value-title' }, [ _('Invite code') ]),
			E('div', { 'class': 'cbi-value-field' }, [
				this.inviteCode,
				E('button', {
					'class': 'btn cbi-button',
					'click': ui.createHandlerFn(this, 'handleCopy')
				}, [ _('Copy') ]),
				this.copyMsg
			])
		]);
		this.inviteMsg = E('div');
		this.invitesTable = E('div');

		return E('div', { 'class': 'cbi-section', 'style': 'display:none' }, [
			E('h3', [ _('Invite a neighbour') ]),
			E('div', { 'class': 'cbi-value' }, [
				E('label', { 'class': 'cbi-value-title' }, [ _('Name') ]),
				E('div', { 'class': 'cbi-value-field' }, [
					this.inviteName,
					E('div', { 'class': 'cbi-value-description' }, [ _('A note for yourself, e.g. the neighbour\'s name.') ])
				])
			]),
			E('div', { 'class': 'cbi-value' }, [
				E('label', { 'class': 'cbi-value-title' }, [ _('Valid for') ]),
				E('div', { 'class': 'cbi-value-field' }, [ this.inviteExpires ])
			]),
			this.inviteAdmin,
			E('div', { 'class': 'cbi-page-actions' }, [
				E('button', {
					'class': 'btn cbi-button cbi-button-action',
					'click': ui.createHandlerFn(this, 'handleInvite')
				}, [ _('Invite a neighbour') ])
			]),
			this.inviteMsg,
			this.inviteResult,
			E('h4', [ _('Invites') ]),
			this.invitesTable
		]);
	},

	renderServicesBox: function() {
		this.svcName = E('input', { 'class': 'cbi-input-text', 'type': 'text', 'placeholder': _('e.g. nas') });
		this.svcPort = E('input', { 'class': 'cbi-input-text', 'type': 'number', 'min': 1, 'max': 65535, 'placeholder': _('e.g. 445') });
		this.svcProto = E('select', { 'class': 'cbi-input-select' }, [
			E('option', { 'value': 'tcp' }, [ _('TCP') ]),
			E('option', { 'value': 'udp' }, [ _('UDP') ])
		]);
		this.svcType = E('input', { 'class': 'cbi-input-text', 'type': 'text', 'placeholder': _('optional, e.g. smb') });
		this.svcMsg = E('div');
		this.servicesTable = E('div');

		return E('div', { 'class': 'cbi-section', 'style': 'display:none' }, [
			E('h3', [ _('Services') ]),
			E('p', [ _('Services of this node, published in the mesh\'s DNS. Those defined on the Settings page are changed there.') ]),
			this.servicesTable,
			E('div', { 'class': 'cbi-value' }, [
				E('label', { 'class': 'cbi-value-title' }, [ _('Name') ]),
				E('div', { 'class': 'cbi-value-field' }, [ this.svcName ])
			]),
			E('div', { 'class': 'cbi-value' }, [
				E('label', { 'class': 'cbi-value-title' }, [ _('Port') ]),
				E('div', { 'class': 'cbi-value-field' }, [ this.svcPort ])
			]),
			E('div', { 'class': 'cbi-value' }, [
				E('label', { 'class': 'cbi-value-title' }, [ _('Protocol') ]),
				E('div', { 'class': 'cbi-value-field' }, [ this.svcProto ])
			]),
			E('div', { 'class': 'cbi-value' }, [
				E('label', { 'class': 'cbi-value-title' }, [ _('Type') ]),
				E('div', { 'class': 'cbi-value-field' }, [ this.svcType ])
			]),
			E('div', { 'class': 'cbi-page-actions' }, [
				E('button', {
					'class': 'btn cbi-button cbi-button-add',
					'click': ui.createHandlerFn(this, 'handleServiceAdd')
				}, [ _('Add service') ])
			]),
			this.svcMsg
		]);
	},

	render: function(data) {
		this.statusNode = E('div', { 'class': 'cbi-section' }, [
			E('p', { 'class': 'center', 'style': 'margin-top:5em' }, [ E('em', [ _('Loading data…') ]) ])
		]);
		this.onboardNode = this.renderOnboard();
		this.inviteNode = this.renderInvite();
		this.servicesNode = this.renderServicesBox();
		this.reloadMsg = E('div');

		var page = E([], [
			E('h2', [ _('Kith') ]),
			E('div', { 'class': 'cbi-map-descr' }, [
				_('Kith joins neighbours\' routers into one private mesh network over WireGuard.')
			]),
			this.statusNode,
			this.onboardNode,
			this.inviteNode,
			this.servicesNode,
			E('div', { 'class': 'cbi-page-actions' }, [
				E('button', {
					'class': 'btn cbi-button cbi-button-reload',
					'title': _('Make kithd re-read /etc/config/kith (Save & Apply on the Settings page does this too)'),
					'click': ui.createHandlerFn(this, 'handleReload')
				}, [ _('Reload settings') ])
			]),
			this.reloadMsg
		]);

		this.update(data[1][0], data[1][1], data[1][2], data[1][3]);
		poll.add(L.bind(this.refresh, this), 5);

		return page;
	},

	handleSaveApply: null,
	handleSave: null,
	handleReset: null
});
