'use strict';
'require view';
'require rpc';
'require dom';
'require ui';
'require kith.common as kc';

/*
 * Members of the network. Administrators may revoke one: kithd first says
 * (dry run) whom the revocation cuts off with it, the admin confirms, and
 * only then is it signed and spread.
 */

var callPeers = rpc.declare({
	object: 'kith',
	method: 'peers',
	expect: { peers: [] }
});

var callRevoke = rpc.declare({
	object: 'kith',
	method: 'revoke',
	params: [ 'node', 'dryRun' ],
	reject: true
});

return view.extend({
	load: function() {
		return kc.status().then(function(st) {
			return Promise.all([ st, kc.isMember(st) ? callPeers() : [] ]);
		});
	},

	refresh: function() {
		return callPeers().then(L.bind(function(peers) { dom.content(this.table, this.renderTable(peers)); }, this));
	},

	renderTable: function(peers) {
		var revoke = this.mayRevoke;
		var t = new ui.Table([ _('Name'), _('IPv4'), _('Path'), revoke ? '' : null ], { id: 'kith-members' }, kc.placeholder(_('No other members yet')));

		t.update(peers.map(L.bind(function(p) {
			var row = [ p.name, p.ipv4, kc.pathText(p) ];

			if (revoke)
				row.push(E('button', {
					'class': 'btn cbi-button cbi-button-negative',
					'click': ui.createHandlerFn(this, 'handleRevoke', p.name)
				}, [ _('Revoke…') ]));

			return row;
		}, this)), kc.placeholder(_('No other members yet')));

		return t.render();
	},

	handleRevoke: function(name) {
		return callRevoke(name, true).then(kc.checked).then(L.bind(function(dry) {
			var cut = Array.isArray(dry.cutOff) ? dry.cutOff : [];

			ui.showModal(_('Revoke %s?').format(name), [
				E('p', [ _('%s loses its place in the network for good; it would need a new invite.').format(name) ]),
				cut.length ? E('p', [ _('Cut off with it, as they were admitted through it: %s.').format(cut.join(', ')) ]) : '',
				E('div', { 'class': 'right' }, [
					E('button', { 'class': 'btn', 'click': ui.hideModal }, [ _('Cancel') ]), ' ',
					E('button', {
						'id': 'kith-revoke-confirm',
						'class': 'btn cbi-button-negative important',
						'click': ui.createHandlerFn(this, 'doRevoke', name)
					}, [ _('Revoke') ])
				])
			]);
		}, this)).catch(L.bind(function(err) {
			kc.message(this.msg, 'warning', _('Revoking %s was refused: %s').format(name, kc.errorText(err)));
		}, this));
	},

	doRevoke: function(name) {
		return callRevoke(name, false).then(kc.checked).then(L.bind(function() {
			ui.hideModal();
			kc.message(this.msg, 'success', _('%s was revoked.').format(name));
			return this.refresh();
		}, this)).catch(L.bind(function(err) {
			ui.hideModal();
			kc.message(this.msg, 'warning', _('Revoking %s was refused: %s').format(name, kc.errorText(err)));
		}, this));
	},

	render: function(data) {
		var st = data[0];
		var head = E('h2', [ _('Members') ]);

		if (!kc.isMember(st))
			return E([], [ head, kc.notMember(st) ]);

		this.mayRevoke = kc.isAdmin(st) && kc.mayWrite();
		this.table = E('div');
		this.msg = E('div', { 'id': 'kith-members-msg' });
		dom.content(this.table, this.renderTable(data[1]));

		return E([], [
			head,
			E('p', [ this.mayRevoke
				? _('Revoking a member removes it from the mesh on every node; those it admitted lose their place too.')
				: _('Only administrators may revoke members.') ]),
			this.msg,
			this.table
		]);
	},

	handleSaveApply: null,
	handleSave: null,
	handleReset: null
});
