'use strict';
'require view';
'require rpc';
'require ui';
'require dom';
'require kith.common as kc';

/*
 * Join or create: paste an invite code (or scan its QR code with the
 * camera, where the browser can read QR codes), progress while kithd
 * joins, and kithd's reason when it refuses. Or found a new network.
 */

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

return view.extend({
	load: function() {
		return kc.status();
	},

	joined: function(st) {
		var net = (L.isObject(st) && L.isObject(st.network)) ? st.network.name : '?';
		var name = (L.isObject(st) && L.isObject(st.node)) ? st.node.name : '?';

		dom.content(this.body, E('div', { 'class': 'alert-message success', 'id': 'kith-joined' }, [
			_('This router is "%s" in the network "%s".').format(name, net), ' ',
			E('a', { 'href': L.url('admin/services/kith/overview') }, [ _('See the mesh') ])
		]));
	},

	handleJoin: function() {
		var code = this.joinCode.value.trim();

		if (code === '') {
			kc.message(this.joinMsg, 'warning', _('Paste the invite code first.'));
			return Promise.resolve();
		}

		kc.message(this.joinMsg, 'notice spinning', _('Joining… contacting the member that invited you; this can take a few seconds.'));

		return callJoin(code, kc.optional(this.joinName.value)).then(kc.checked).then(L.bind(function(st) {
			kc.message(this.joinMsg, '', '');
			this.joined(st);
		}, this)).catch(L.bind(function(err) {
			kc.message(this.joinMsg, 'warning', _('Joining was refused: %s').format(kc.errorText(err)));
		}, this));
	},

	handleInit: function() {
		var network = this.initNetwork.value.trim();

		if (network === '') {
			kc.message(this.initMsg, 'warning', _('Choose a name for the network first.'));
			return Promise.resolve();
		}

		kc.message(this.initMsg, 'notice spinning', _('Creating the network…'));

		return callInit(network, kc.optional(this.initName.value), kc.optional(this.initEndpoint.value)).then(kc.checked).then(L.bind(function(st) {
			kc.message(this.initMsg, '', '');
			this.joined(st);
		}, this)).catch(L.bind(function(err) {
			kc.message(this.initMsg, 'warning', _('Creating the network failed: %s').format(kc.errorText(err)));
		}, this));
	},

	/* The camera, where the browser has a QR reader (BarcodeDetector) and the page may use the camera (HTTPS). */
	canScan: function() {
		return typeof window.BarcodeDetector === 'function' && navigator.mediaDevices != null &&
			typeof navigator.mediaDevices.getUserMedia === 'function';
	},

	handleScan: function() {
		var video = E('video', { 'style': 'width:100%;max-width:360px', 'playsinline': 'playsinline' });
		var detector = new window.BarcodeDetector({ formats: [ "qr_code" ] }); /* a format name, not text */
		var self = this, stream = null, done = false;

		var stop = function() {
			done = true;
			if (stream)
				stream.getTracks().forEach(function(t) { t.stop(); });
			ui.hideModal();
		};

		ui.showModal(_('Scan the invite'), [
			video,
			E('div', { 'class': 'right' }, [ E('button', { 'class': 'btn', 'click': stop }, [ _('Cancel') ]) ])
		]);

		return navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } }).then(function(s) {
			stream = s;
			video.srcObject = s;

			return video.play().then(function look() {
				if (done)
					return;

				return detector.detect(video).then(function(codes) {
					if (codes.length) {
						self.joinCode.value = codes[0].rawValue;
						stop();
						return;
					}

					return new Promise(function(r) { window.setTimeout(r, 300); }).then(look);
				});
			});
		}).catch(function(err) {
			stop();
			kc.message(self.joinMsg, 'warning', _('The camera could not be used: %s').format(kc.errorText(err)));
		});
	},

	render: function(st) {
		this.body = E('div');

		if (!L.isObject(st))
			return E([], [ E('h2', [ _('Join or create') ]), kc.notMember(st) ]);

		if (kc.isMember(st)) {
			this.joined(st);
			return E([], [ E('h2', [ _('Join or create') ]), this.body ]);
		}

		if (!kc.mayWrite())
			return E([], [ E('h2', [ _('Join or create') ]), E('p', { 'class': 'alert-message notice' }, [ _('You may look, not join: your login has no write access to Kith.') ]) ]);

		this.joinCode = E('textarea', {
			'id': 'kith-join-code', 'class': 'cbi-input-textarea', 'rows': 3,
			'style': 'width:100%;font-family:monospace', 'placeholder': _('Paste the invite code you were given')
		});
		this.joinName = E('input', { 'id': 'kith-join-name', 'class': 'cbi-input-text', 'type': 'text', 'placeholder': _('default: the hostname') });
		this.joinMsg = E('div', { 'id': 'kith-join-msg' });
		this.initNetwork = E('input', { 'id': 'kith-init-network', 'class': 'cbi-input-text', 'type': 'text', 'placeholder': _('e.g. our-street') });
		this.initName = E('input', { 'class': 'cbi-input-text', 'type': 'text', 'placeholder': _('default: the hostname') });
		this.initEndpoint = E('input', { 'class': 'cbi-input-text', 'type': 'text', 'placeholder': _('e.g. 203.0.113.7:51820') });
		this.initMsg = E('div', { 'id': 'kith-init-msg' });

		dom.content(this.body, E([], [
			E('div', { 'class': 'cbi-section' }, [
				E('h3', [ _('Join a network') ]),
				E('p', [ _('A member of an existing network gives you an invite code; paste it here.') ]),
				kc.row(_('Invite code'), E([], [
					this.joinCode,
					this.canScan() ? E('button', { 'class': 'btn cbi-button', 'click': ui.createHandlerFn(this, 'handleScan') }, [ _('Scan with the camera') ]) : ''
				])),
				kc.row(_('Node name'), this.joinName),
				E('div', { 'class': 'cbi-page-actions' }, [
					E('button', { 'class': 'btn cbi-button cbi-button-action', 'click': ui.createHandlerFn(this, 'handleJoin') }, [ _('Join') ])
				]),
				this.joinMsg
			]),
			E('div', { 'class': 'cbi-section' }, [
				E('h3', [ _('Create a network') ]),
				E('p', [ _('Found a new network with this router as its first administrator, then invite your neighbours.') ]),
				kc.row(_('Network name'), this.initNetwork),
				kc.row(_('Node name'), this.initName),
				kc.row(_('Public endpoint'), this.initEndpoint, _('Optional: the public address:port neighbours can reach this router at.')),
				E('div', { 'class': 'cbi-page-actions' }, [
					E('button', { 'class': 'btn cbi-button cbi-button-positive', 'click': ui.createHandlerFn(this, 'handleInit') }, [ _('Create') ])
				]),
				this.initMsg
			])
		]));

		return E([], [ E('h2', [ _('Join or create') ]), this.body ]);
	},

	handleSaveApply: null,
	handleSave: null,
	handleReset: null
});

