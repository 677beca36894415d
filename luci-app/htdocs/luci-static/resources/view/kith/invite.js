'use strict';
'require view';
'require rpc';
'require poll';
'require dom';
'require ui';
'require kith.common as kc';
'require kith.qrcode as qrcode';

/*
 * Invite a neighbour: name, validity and administrator; the one-time code
 * with its QR code drawn in the page and a copy button; the pending
 * invites with their expiry, and a button that withdraws one not used yet.
 */

var callInvites = rpc.declare({
	object: 'kith',
	method: 'invites',
	expect: { invites: [] }
});

var callInviteRm = rpc.declare({
	object: 'kith',
	method: 'invite_rm',
	params: [ 'id' ],
	reject: true
});

var callInvite = rpc.declare({
	object: 'kith',
	method: 'invite',
	params: [ 'name', 'expires', 'admin' ],
	reject: true
});

/* Members may admit when they are administrators or the network lets any member invite. */
function mayAdmit(st) {
	return kc.isMember(st) && (st.node.admin || (L.isObject(st.network) && st.network.policy === 'any'));
}

return view.extend({
	load: function() {
		return kc.status().then(function(st) {
			return Promise.all([ st, mayAdmit(st) ? callInvites() : [] ]);
		});
	},

	refresh: function() {
		return callInvites().then(L.bind(function(list) { dom.content(this.invitesTable, this.renderInvites(list)); }, this));
	},

	withdraw: function(id) {
		return callInviteRm(id).then(kc.checked).then(L.bind(function() {
			kc.message(this.listMsg, 'success', _('Invite %s withdrawn: it admits nobody.').format(id));
			return this.refresh();
		}, this), L.bind(function(err) {
			kc.message(this.listMsg, 'warning', _('Withdrawing the invite failed: %s').format(kc.errorText(err)));
		}, this));
	},

	renderInvites: function(invites) {
		var writable = kc.mayWrite();
		var t = new ui.Table([ _('ID'), _('Name'), _('Administrator'), _('Expires'), _('Used by'), '' ],
			{ id: 'kith-invites' }, kc.placeholder(_('No pending invites')));

		t.update(invites.map(L.bind(function(inv) {
			return [
				E('code', [ inv.id ]),
				inv.name || '-',
				inv.admin ? _('yes') : _('no'),
				[ inv.expiresAtMs, new Date(inv.expiresAtMs).toLocaleString() ],
				inv.usedBy || '-',
				writable && !inv.usedBy ? E('button', {
					'class': 'btn cbi-button cbi-button-remove', 'data-invite': inv.id,
					'click': ui.createHandlerFn(this, 'withdraw', inv.id)
				}, [ _('Withdraw') ]) : ''
			];
		}, this)), kc.placeholder(_('No pending invites')));

		return t.render();
	},

	handleInvite: function() {
		var admin = this.isAdmin && this.inviteAdmin.checked;

		return callInvite(kc.optional(this.inviteName.value), this.inviteExpires.value, admin).then(kc.checked).then(L.bind(function(res) {
			this.inviteCode.value = res.code;
			dom.content(this.qrNode, qrcode.svg(res.code, false, 256));
			this.result.style.display = '';
			kc.message(this.inviteMsg, 'success', _('Give this code to your neighbour, or let them scan it; it can be used once, until %s.')
				.format(new Date(res.expiresAtMs).toLocaleString()));

			return this.refresh();
		}, this)).catch(L.bind(function(err) {
			this.result.style.display = 'none';
			kc.message(this.inviteMsg, 'warning', _('Creating the invite failed: %s').format(kc.errorText(err)));
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
			kc.message(this.copyMsg, 'success', _('Copied.'));
		}, this)).catch(L.bind(function(err) {
			kc.message(this.copyMsg, 'warning', _('Copy the selected code by hand (%s).').format(kc.errorText(err)));
		}, this));
	},

	render: function(data) {
		var st = data[0];
		var head = [ E('h2', [ _('Invite a neighbour') ]) ];

		if (!kc.isMember(st))
			return E([], head.concat([ kc.notMember(st) ]));

		this.invitesTable = E('div');
		this.listMsg = E('div', { 'id': 'kith-inv-list-msg' });
		dom.content(this.invitesTable, this.renderInvites(data[1]));
		poll.add(L.bind(this.refresh, this), 10);

		var list = E('div', { 'class': 'cbi-section' }, [
			E('h3', [ _('Pending invites') ]),
			E('p', [ _('An unused invite lapses at its expiry; withdraw one sent to the wrong person.') ]),
			this.listMsg,
			this.invitesTable
		]);

		if (!mayAdmit(st))
			return E([], head.concat([ E('p', { 'class': 'alert-message notice' }, [ _('Only administrators of this network may invite.') ]) ]));

		if (!kc.mayWrite())
			return E([], head.concat([ list ]));

		this.isAdmin = kc.isAdmin(st);
		this.inviteName = E('input', { 'id': 'kith-inv-name', 'class': 'cbi-input-text', 'type': 'text', 'placeholder': _('optional') });
		this.inviteExpires = E('select', { 'id': 'kith-inv-expires', 'class': 'cbi-input-select' }, [
			E('option', { 'value': '1h' }, [ _('1 hour') ]),
			E('option', { 'value': '24h', 'selected': 'selected' }, [ _('24 hours') ]),
			E('option', { 'value': '7d' }, [ _('7 days') ])
		]);
		this.inviteAdmin = E('input', { 'id': 'kith-inv-admin', 'type': 'checkbox' });
		this.inviteCode = E('input', {
			'id': 'kith-inv-code', 'class': 'cbi-input-text', 'type': 'text', 'readonly': 'readonly',
			'style': 'width:100%;font-family:monospace', 'click': function(ev) { ev.target.select(); }
		});
		this.qrNode = E('div', { 'id': 'kith-inv-qr', 'style': 'margin:1em 0' });
		this.copyMsg = E('div');
		this.inviteMsg = E('div', { 'id': 'kith-inv-msg' });
		this.result = E('div', { 'style': 'display:none' }, [
			this.qrNode,
			kc.row(_('Invite code'), E([], [
				this.inviteCode,
				E('button', { 'class': 'btn cbi-button', 'click': ui.createHandlerFn(this, 'handleCopy') }, [ _('Copy') ]),
				this.copyMsg
			]))
		]);

		return E([], head.concat([
			E('div', { 'class': 'cbi-section' }, [
				kc.row(_('Name'), this.inviteName, _('A note for yourself, e.g. the neighbour\'s name.')),
				kc.row(_('Valid for'), this.inviteExpires),
				this.isAdmin ? kc.row(_('Administrator'), this.inviteAdmin, _('The new member may admit others and invite administrators too.')) : '',
				E('div', { 'class': 'cbi-page-actions' }, [
					E('button', { 'class': 'btn cbi-button cbi-button-action', 'click': ui.createHandlerFn(this, 'handleInvite') }, [ _('Create invite') ])
				]),
				this.inviteMsg,
				this.result
			]),
			list
		]));
	},

	handleSaveApply: null,
	handleSave: null,
	handleReset: null
});
