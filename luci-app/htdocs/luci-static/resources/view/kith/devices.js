'use strict';
'require view';
'require rpc';
'require poll';
'require dom';
'require ui';
'require kith.common as kc';
'require kith.qrcode as qrcode';

/*
 * Devices: phones and laptops that reach the mesh through this router with
 * the plain WireGuard app. Adding one makes kithd generate its key pair and
 * hand out the private key once: the page shows the configuration as a QR
 * code for the app, and forgets it when closed.
 */

var callClients = rpc.declare({
	object: 'kith',
	method: 'clients',
	expect: { clients: [] }
});

var callClientAdd = rpc.declare({
	object: 'kith',
	method: 'client_add',
	params: [ 'name', 'exit' ],
	reject: true
});

var callClientRm = rpc.declare({
	object: 'kith',
	method: 'client_rm',
	params: [ 'name' ],
	reject: true
});

/* The wg-quick configuration the WireGuard apps import. */
function wgConfig(c) {
	return [
		'[Interface]',
		'PrivateKey = ' + c.privateKey,
		'Address = ' + [ c.address + '/32', c.ipv6 ? c.ipv6 + '/128' : null ].filter(Boolean).join(', '),
		'DNS = ' + c.dns,
		'',
		'[Peer]',
		'PublicKey = ' + c.serverPublicKey,
		'Endpoint = ' + c.endpoint,
		'AllowedIPs = ' + c.allowedIPs.join(', '),
		'PersistentKeepalive = ' + c.keepaliveSec,
		''
	].join('\n');
}

return view.extend({
	load: function() {
		return kc.status().then(function(st) {
			return Promise.all([ st, kc.isMember(st) ? callClients() : [] ]);
		});
	},

	refresh: function() {
		return callClients().then(L.bind(function(list) { dom.content(this.table, this.renderTable(list)); }, this));
	},

	renderTable: function(clients) {
		var write = kc.mayWrite();
		var t = new ui.Table([ _('Name'), _('Address'), _('Latest Handshake'), write ? '' : null ], { id: 'kith-clients' },
			kc.placeholder(_('No devices yet')));

		t.update(clients.map(L.bind(function(c) {
			var row = [ c.name, c.address, [ c.lastHandshakeSec != null ? c.lastHandshakeSec : Infinity, kc.age(c.lastHandshakeSec) ] ];

			if (write)
				row.push(E('button', {
					'class': 'btn cbi-button cbi-button-remove',
					'click': ui.createHandlerFn(this, 'handleRemove', c.name)
				}, [ _('Remove') ]));

			return row;
		}, this)), kc.placeholder(_('No devices yet')));

		return t.render();
	},

	handleAdd: function() {
		var name = this.name.value.trim();

		if (!/^[a-z0-9-]{1,32}$/.test(name)) {
			kc.message(this.msg, 'warning', _('A device needs a name of 1-32 lower-case letters, digits and hyphens.'));
			return Promise.resolve();
		}

		return callClientAdd(name, this.exit.checked).then(kc.checked).then(L.bind(function(c) {
			var conf = wgConfig(c);

			this.name.value = '';
			kc.message(this.msg, '', '');
			ui.showModal(_('Device %s').format(name), [
				E('p', [ _('Scan this with the WireGuard app on the device. The private key is shown only now.') ]),
				E('div', { 'id': 'kith-client-qr', 'class': 'center' }, [ qrcode.svg(conf, true, 300) ]),
				E('details', [
					E('summary', [ _('Configuration as text') ]),
					E('pre', { 'id': 'kith-client-conf', 'style': 'white-space:pre-wrap;word-break:break-all' }, [ conf ])
				]),
				E('div', { 'class': 'right' }, [ E('button', { 'class': 'btn', 'click': ui.hideModal }, [ _('Done') ]) ])
			]);

			return this.refresh();
		}, this)).catch(L.bind(function(err) {
			kc.message(this.msg, 'warning', _('Adding the device failed: %s').format(kc.errorText(err)));
		}, this));
	},

	handleRemove: function(name) {
		return callClientRm(name).then(kc.checked).then(L.bind(function() {
			kc.message(this.msg, 'success', _('Device "%s" removed.').format(name));
			return this.refresh();
		}, this)).catch(L.bind(function(err) {
			kc.message(this.msg, 'warning', _('Removing the device failed: %s').format(kc.errorText(err)));
		}, this));
	},

	render: function(data) {
		var st = data[0];
		var head = E('h2', [ _('Devices') ]);

		if (!kc.isMember(st))
			return E([], [ head, kc.notMember(st) ]);

		this.table = E('div');
		this.msg = E('div', { 'id': 'kith-devices-msg' });
		this.name = E('input', { 'id': 'kith-client-name', 'class': 'cbi-input-text', 'type': 'text', 'placeholder': _('e.g. annas-phone') });
		this.exit = E('input', { 'id': 'kith-client-exit', 'type': 'checkbox' });
		dom.content(this.table, this.renderTable(data[1]));
		poll.add(L.bind(this.refresh, this), 10);

		return E([], [
			head,
			E('div', { 'class': 'cbi-map-descr' }, [ _('Phones and laptops that reach the mesh through this router with the WireGuard app.') ]),
			this.table,
			kc.mayWrite() ? E('div', { 'class': 'cbi-section' }, [
				E('h3', [ _('Add a device') ]),
				kc.row(_('Name'), this.name),
				kc.row(_('All traffic'), this.exit, _('Send all of the device\'s internet traffic through this router, not only the mesh\'s.')),
				E('div', { 'class': 'cbi-page-actions' }, [
					E('button', { 'class': 'btn cbi-button cbi-button-add', 'click': ui.createHandlerFn(this, 'handleAdd') }, [ _('Add device') ])
				])
			]) : '',
			this.msg
		]);
	},

	handleSaveApply: null,
	handleSave: null,
	handleReset: null
});
