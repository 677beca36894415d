// test/package/support/fw4-service.uc: procd's "service get_data" for fw4,
// on a private ubusd: answers with the JSON in FILE (what procd would return
// for the instances' data, e.g. {"kith":{"kithd":{"firewall":[...]}}}), for
// type "firewall" or no type, and {} for any other type.
//
//   ucode -S -L ROUTER/lib/ucode fw4-service.uc SOCKET FILE
'use strict';

let ubus = require('ubus');
let uloop = require('uloop');
let fs = require('fs');

let sock = ARGV[0], file = ARGV[1];
let data = json(fs.readfile(file));

uloop.init();

let conn = ubus.connect(sock);
if (!conn) {
	warn(`fw4-service: cannot connect to ubus at ${sock}: ${ubus.error()}\n`);
	exit(1);
}

let obj = conn.publish('service', {
	get_data: {
		call: (req) => req.reply((req.args.type == null || req.args.type == 'firewall') ? data : {}),
		args: { name: '', instance: '', type: '' }
	}
});
if (!obj) {
	warn(`fw4-service: cannot publish service: ${conn.error()}\n`);
	exit(1);
}

uloop.run();
