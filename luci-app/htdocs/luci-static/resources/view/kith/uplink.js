'use strict';
'require view';
'require rpc';
'require poll';
'require dom';
'require ui';
'require kith.common as kc';

/*
 * Uplink sharing: offer this router's internet connection to the members
 * (with a capacity), or send this home's traffic out through a member's:
 * automatically, through a chosen member, or not at all. Lists the donors,
 * their health and which one is in use.
 */

var callExits = rpc.declare({
	object: 'kith',
	method: 'exits',
	expect: { exits: [] }
});

var callExitOffer = rpc.declare({
	object: 'kith',
	method: 'exit_offer',
	params: [ 'capacityMbit', 'off' ],
	reject: true
});

var callExitUse = rpc.declare({
	object: 'kith',
	method: 'exit_use',
	params: [ 'node' ],
	reject: true
});

return view.extend({
	load: function() {
		return kc.status().then(function(st) {
			return Promise.all([ st, kc.isMember(st) ? callExits() : [] ]);
		});
	},

	refresh: function() {
		return Promise.all([ kc.status(), callExits() ]).then(L.bind(function(d) { this.update(d[0], d[1]); }, this));
	},

	update: function(st, exits) {
		var ex = (L.isObject(st) && L.isObject(st.exit)) ? st.exit : {};
		var t = new ui.Table([ _('Member'), _('Capacity'), _('Path'), _('Healthy'), _('In use') ], { id: 'kith-exits' },
			kc.placeholder(_('No member offers its uplink')));

		t.update(exits.map(function(x) {
			return [
				x.name,
				[ x.capacityMbit, _('%d Mbit/s').format(x.capacityMbit) ],
				x.skipped ? E('span', { 'title': x.skipped }, [ kc.pathText(x) ]) : kc.pathText(x),
				x.healthy ? _('yes') : _('no'),
				x.chosen ? E('strong', [ _('in use') ]) : '-'
			];
		}), kc.placeholder(_('No member offers its uplink')));

		dom.content(this.summary, kc.keyValueTable([
			[ _('This router offers'), ex.offering ? _('its uplink, %d Mbit/s').format(ex.capacityMbit) : _('nothing') ],
			[ _('This home uses'), ex.use === null || ex.use === undefined ? _('its own uplink') : (ex.use === 'auto' ? _('any member (automatic)') : ex.use) ],
			[ _('Traffic goes out via'), ex.via || _('this router\'s own uplink') ],
			ex.error ? [ _('Problem'), ex.error ] : null
		]));
		dom.content(this.table, t.render());
	},

	handleOffer: function(off) {
		var cap = parseInt(this.capacity.value, 10);

		if (!off && !(cap >= 1)) {
			kc.message(this.msg, 'warning', _('Give the capacity to share in Mbit/s (at least 1).'));
			return Promise.resolve();
		}

		return callExitOffer(off ? undefined : cap, off ? true : undefined).then(kc.checked).then(L.bind(function() {
			kc.message(this.msg, 'success', off ? _('This router no longer offers its uplink.') : _('This router offers its uplink.'));
			return this.refresh();
		}, this)).catch(L.bind(function(err) {
			kc.message(this.msg, 'warning', _('Changing the offer failed: %s').format(kc.errorText(err)));
		}, this));
	},

	handleUse: function() {
		var node = this.use.value;

		return callExitUse(node).then(kc.checked).then(L.bind(function() {
			kc.message(this.msg, 'success', _('Saved: this home uses "%s".').format(node));
			return this.refresh();
		}, this)).catch(L.bind(function(err) {
			kc.message(this.msg, 'warning', _('Changing the uplink failed: %s').format(kc.errorText(err)));
		}, this));
	},

	render: function(data) {
		var st = data[0];
		var head = E('h2', [ _('Uplink') ]);

		if (!kc.isMember(st))
			return E([], [ head, kc.notMember(st) ]);

		this.summary = E('div');
		this.table = E('div');
		this.msg = E('div', { 'id': 'kith-uplink-msg' });
		this.capacity = E('input', { 'id': 'kith-exit-cap', 'class': 'cbi-input-text', 'type': 'number', 'min': 1, 'placeholder': _('e.g. 50') });
		this.use = E('select', { 'id': 'kith-exit-use', 'class': 'cbi-input-select' }, [
			E('option', { 'value': 'off' }, [ _('Off: this router\'s own uplink') ]),
			E('option', { 'value': 'auto' }, [ _('Automatic: a healthy member') ])
		].concat(data[1].map(function(x) { return E('option', { 'value': x.name }, [ _('Through %s').format(x.name) ]); })));

		this.update(st, data[1]);
		poll.add(L.bind(this.refresh, this), 5);

		return E([], [
			head,
			E('div', { 'class': 'cbi-map-descr' }, [ _('Share this router\'s internet connection with the members, or send this home\'s internet traffic out through a member\'s.') ]),
			E('div', { 'class': 'cbi-section' }, [ this.summary ]),
			kc.mayWrite() ? E('div', { 'class': 'cbi-section' }, [
				E('h3', [ _('Offer this router\'s uplink') ]),
				kc.row(_('Capacity (Mbit/s)'), this.capacity),
				E('div', { 'class': 'cbi-page-actions' }, [
					E('button', { 'class': 'btn cbi-button cbi-button-action', 'click': ui.createHandlerFn(this, 'handleOffer', false) }, [ _('Offer') ]), ' ',
					E('button', { 'class': 'btn cbi-button cbi-button-negative', 'click': ui.createHandlerFn(this, 'handleOffer', true) }, [ _('Stop offering') ])
				]),
				E('h3', [ _('Use a member\'s uplink') ]),
				kc.row(_('Uplink'), this.use),
				E('div', { 'class': 'cbi-page-actions' }, [
					E('button', { 'class': 'btn cbi-button cbi-button-apply', 'click': ui.createHandlerFn(this, 'handleUse') }, [ _('Use') ])
				]),
				this.msg
			]) : '',
			E('div', { 'class': 'cbi-section' }, [ E('h3', [ _('Donors') ]), this.table ])
		]);
	},

	handleSaveApply: null,
	handleSave: null,
	handleReset: null
});
