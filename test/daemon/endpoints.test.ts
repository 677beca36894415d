// The node's own addresses as LAN endpoints (src/daemon/endpoints.ts), from
// what `ip -o addr show` prints on a dual-stack home router.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lanEndpoints, MAX_GLOBAL6, MAX_LAN4 } from '../../src/daemon/endpoints.ts';

const IP_ADDR = [
  '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
  '1: lo    inet6 ::1/128 scope host noprefixroute \\       valid_lft forever preferred_lft forever',
  '2: br-lan    inet 198.18.1.2/24 brd 198.18.1.255 scope global br-lan\\       valid_lft forever preferred_lft forever',
  '2: br-lan    inet6 2001:db8:1::2/64 scope global dynamic mngtmpaddr noprefixroute \\       valid_lft 86000sec preferred_lft 14000sec',
  '2: br-lan    inet6 2001:db8:1:0:aaaa:bbbb:cccc:dddd/64 scope global temporary dynamic \\       valid_lft 86000sec preferred_lft 14000sec',
  '2: br-lan    inet6 2001:db8:1::99/64 scope global deprecated dynamic \\       valid_lft 86000sec preferred_lft 0sec',
  '2: br-lan    inet6 2001:db8:1::98/64 scope global tentative \\       valid_lft forever preferred_lft forever',
  '2: br-lan    inet6 fd12:3456:789a::1/60 scope global noprefixroute \\       valid_lft forever preferred_lft forever',
  '2: br-lan    inet6 fe80::1/64 scope link \\       valid_lft forever preferred_lft forever',
  '3: kith0    inet 100.64.0.2/32 scope global kith0\\       valid_lft forever preferred_lft forever',
  '3: kith0    inet6 2001:db8:ffff::1/128 scope global \\       valid_lft forever preferred_lft forever',
  '4: wan    inet6 2001:DB8:FFFE::2/64 scope global \\       valid_lft forever preferred_lft forever',
].join('\n');

test('IPv4 of scope global and stable global IPv6 addresses; not temporary, deprecated, tentative, ULA, link-local or Kith\'s own', () => {
  const eps = lanEndpoints(IP_ADDR, 51820, (i) => i === 'kith0');
  assert.equal(eps, [
    { kind: 'lan', host: '198.18.1.2', port: 51820 },
    { kind: 'lan', host: '2001:db8:1::2', port: 51820 },
    { kind: 'lan', host: '2001:db8:fffe::2', port: 51820 },
  ]);
});

test('bounded: at most MAX_LAN4 IPv4 and MAX_GLOBAL6 IPv6 endpoints, the first ones listed', () => {
  const lines = [...Array(10).keys()].flatMap((i) => [`${i + 2}: eth${i}    inet 10.0.${i}.1/24 scope global eth${i}`, `${i + 2}: eth${i}    inet6 2001:db8:${i}::1/64 scope global `]);
  const eps = lanEndpoints(lines.join('\n'), 51820, () => false);
  assert.is(eps.filter((e) => !e.host.includes(':')).length, MAX_LAN4);
  assert.equal(eps.filter((e) => e.host.includes(':')).map((e) => e.host), [...Array(MAX_GLOBAL6).keys()].map((i) => `2001:db8:${i}::1`));
});

test.run();
