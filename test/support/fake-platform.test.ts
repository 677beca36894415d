// The fake platform behaves like the real ones where kithd depends on it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeNet, settle } from './fake-platform.ts';
import { WgApplier } from '../../src/wg/apply.ts';
import { toBase64 } from '../../src/core/bytes.ts';
import { x25519PrivateFromRandom, x25519Public } from '../../src/core/crypto.ts';
import { seededBytes } from './rand.ts';

test('virtual clock: timers fire in time order, only when advanced, and repeat', async () => {
  const net = new FakeNet();
  const c = net.clock;
  const seen: string[] = [];
  c.after(300, () => seen.push(`a@${c.monoMs()}`));
  const every = c.every(200, () => seen.push(`e@${c.monoMs()}`));
  const cancelled = c.after(100, () => seen.push('never'));
  cancelled.cancel();
  await settle();
  assert.equal(seen, []);
  await c.advance(450);
  assert.equal(seen, ['e@200', 'a@300', 'e@400']);
  every.cancel();
  await c.advance(1000);
  assert.is(seen.length, 3);
  assert.is(c.nowMs() - c.monoMs(), Date.UTC(2026, 11, 1));
});

test('scripted wg/ip: the applier creates the interface and `wg show dump` reflects `wg set`', async () => {
  const net = new FakeNet();
  const h = net.host('a', ['198.18.0.1']);
  await h.fs.mkdirp('/run', 0o700);
  const rnd = seededBytes(7);
  const priv = x25519PrivateFromRandom(rnd(32));
  const spec = { ifname: 'kith0', privateKey: toBase64(priv), publicKey: toBase64(x25519Public(priv)), listenPort: 51820, addresses: ['100.64.0.1/10'], keyDir: '/run' };
  const ap = new WgApplier(h.platform);
  await ap.ensureInterface(spec);
  assert.is(ap.backend, 'kernel');
  assert.ok(h.addresses.has('100.64.0.1'), 'the overlay address is now the host\'s');
  const peer = toBase64(x25519Public(x25519PrivateFromRandom(rnd(32))));
  assert.is(await ap.applyPeers(spec, [{ publicKey: peer, endpoint: '198.51.100.2:51820', allowedIPs: ['100.64.0.2/32'], keepaliveSec: 25 }], 0), 1);
  const st = await ap.state('kith0');
  assert.is(st.publicKey, spec.publicKey, 'the public key follows the private key given by file');
  assert.equal(st.peers.map((p) => [p.publicKey, p.endpoint, p.allowedIPs, p.keepaliveSec]), [[peer, '198.51.100.2:51820', ['100.64.0.2/32'], 25]]);
  assert.is(await ap.applyPeers(spec, [{ publicKey: peer, endpoint: '198.51.100.2:51820', allowedIPs: ['100.64.0.2/32'], keepaliveSec: 25 }], 0), 0, 'a second apply changes nothing');
  assert.is(h.fs.text('/run/.wg-key-kith0'), null, 'the key file is removed');
  assert.is(await ap.applyHostRoutes('kith0', ['100.64.0.9/32']), 1);
  assert.is(await ap.applyHostRoutes('kith0', ['100.64.0.9/32']), 0, 'a host route listed without its /32 is the same route');
});

test('memory sockets: TCP between hosts with the client address as remote, refused without a listener; UDP by address', async () => {
  const net = new FakeNet();
  const a = net.host('a', ['198.18.0.1']);
  const b = net.host('b', ['198.18.0.2']);
  let remote = '';
  await a.platform.tcp.listen('0.0.0.0', 7000, async (s) => { remote = s.remote; const d = await s.read(); await s.write(d!); s.close(); });
  const s = await b.platform.tcp.connect('198.18.0.1', 7000, 1000);
  await s.write(new Uint8Array([1, 2, 3]));
  assert.equal(await s.read(), new Uint8Array([1, 2, 3]));
  assert.is(await s.read(), null, 'end of stream after the server closed');
  assert.match(remote, /^198\.18\.0\.2:\d+$/);
  await s.write(new Uint8Array([1])).then(() => assert.unreachable('write after close'), () => undefined);
  await b.platform.tcp.connect('198.18.0.1', 7001, 1000).then(() => assert.unreachable('connected without a listener'), (e: Error) => assert.match(e.message, /ECONNREFUSED/));
  const got: string[] = [];
  const ua = await a.platform.udp.bind('198.18.0.1', 9000);
  ua.onMessage((d, from) => got.push(`${d.length} from ${from.address}`));
  const ub = await b.platform.udp.bind('0.0.0.0', 0);
  await ub.send(new Uint8Array(8000), { address: '198.18.0.1', port: 9000 });
  await settle();
  assert.equal(got, ['8000 from 198.18.0.2']);
  await a.platform.udp.bind('100.64.0.9', 9000).then(() => assert.unreachable('bound an address the host does not have'), (e: Error) => assert.match(e.message, /EADDRNOTAVAIL/));
});

test.run();
