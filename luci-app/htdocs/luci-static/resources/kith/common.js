'use strict';
'require baseclass';
'require dom';
'require rpc';

/*
 * What the Kith pages share: kithd's status call, error and message helpers,
 * the labels of paths and states, form rows. Pages poll with poll.add and
 * return the promise of their refresh: LuCI's poll starts the next call only
 * when that promise has settled, so slow answers never stack requests.
 */

var callStatus = rpc.declare({
	object: 'kith',
	method: 'status'
});

return baseclass.extend({
	status: function() {
		return L.resolveDefault(callStatus(), null);
	},

	isMember: function(st) {
		return L.isObject(st) && st.state !== 'unconfigured';
	},

	isAdmin: function(st) {
		return this.isMember(st) && L.isObject(st.node) && !!st.node.admin;
	},

	/* The session may change things (the dispatcher's nodespec: an ACL with write). */
	mayWrite: function() {
		return L.hasViewPermission() === true;
	},

	/* A failed operation comes back as {error: "one-line reason"} with ubus status 0. */
	checked: function(res) {
		if (L.isObject(res) && res.error != null)
			throw new Error(res.error);

		return res;
	},

	errorText: function(err) {
		return (err && err.message) ? err.message : String(err);
	},

	/* Optional text fields: empty means "not given" (left out of the ubus call). */
	optional: function(value) {
		var v = (value || '').trim();
		return v !== '' ? v : undefined;
	},

	message: function(node, kind, text) {
		dom.content(node, text ? E('div', { 'class': 'alert-message ' + kind }, [ text ]) : '');
	},

	placeholder: function(text) {
		return E('em', [ text ]);
	},

	age: function(sec) {
		if (sec == null)
			return _('Never', 'No WireGuard handshake with this peer yet');

		if (sec < 60)
			return _('%ds ago').format(sec);
		else if (sec < 3600)
			return _('%dm ago').format(sec / 60);
		else if (sec < 86400)
			return _('%dh ago').format(sec / 3600);

		return _('over a day ago');
	},

	pathText: function(peer) {
		switch (peer.path) {
		case 'direct':
			return _('direct');
		case 'relayed':
			return peer.via ? _('relayed via %s').format(peer.via) : _('relayed');
		default:
			return _('unreachable');
		}
	},

	stateText: function(state) {
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
	},

	/* A labelled row of a form: label, field, optional description. */
	row: function(label, field, description) {
		return E('div', { 'class': 'cbi-value' }, [
			E('label', { 'class': 'cbi-value-title' }, [ label ]),
			E('div', { 'class': 'cbi-value-field' }, [
				field,
				description ? E('div', { 'class': 'cbi-value-description' }, [ description ]) : ''
			])
		]);
	},

	keyValueTable: function(rows) {
		return E('table', { 'class': 'table' }, rows.filter(function(r) { return r != null; }).map(function(r) {
			return E('tr', { 'class': 'tr' }, [
				E('td', { 'class': 'td left', 'width': '33%' }, [ r[0] ]),
				E('td', { 'class': 'td left' }, [ r[1] ])
			]);
		}));
	},

	/* The page for a node that is not a member, or a kithd that does not answer. */
	notMember: function(st) {
		if (!L.isObject(st))
			return E('p', { 'class': 'alert-message warning' }, [
				_('kithd is not running or not registered on ubus (/etc/init.d/kith start; logread -e kithd).')
			]);

		return E('p', { 'class': 'alert-message notice' }, [
			_('This router is not a member of a Kith network yet.'), ' ',
			E('a', { 'href': L.url('admin/services/kith/join') }, [ _('Join or create one') ])
		]);
	}
});
