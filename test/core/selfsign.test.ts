// The own record signed by the caller (asyncSign): after installSignature the
// record is byte for byte what the synchronous core signs; only the latest
// pending record takes a signature, a bad one is refused, nothing is verified
// twice, and a first record read before its signature came is signed with
// tweetnacl so nothing ever sees no own record.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sign_detached } from 'tweetnacl-ts/es/sign.js';
import { NodeCore, type Action, type NodeCoreOptions } from '../../src/core/node.ts';
import { clearSignatureCache, primeSignature, signatureStats } from '../../src/core/crypto.ts';
import { encodeRecord, type RecordBody } from '../../src/core/record.ts';
import { bytesEqual, toHex } from '../../src/core/bytes.ts';
import { seededBytes } from '../support/rand.ts';
import { foundMesh, issueMember } from '../support/mesh.ts';

const T0 = 1_700_000_000_000;
const EMPTY: RecordBody = { seq: T0, endpoints: [], links: [], subnets: [], relay: true, exitCapacityMbit: 0, services: [] };

function setup(seed: number) {
  clearSignatureCache();
  const rnd = seededBytes(seed);
  const mesh = foundMesh(rnd, { name: `s${seed}`, nowMs: T0 });
  const f = mesh.founder;
  const opts: NodeCoreOptions = {
    network: mesh.network, chain: f.chain, signKeys: f.identity.sign, relay: true, configuredEndpoints: [{ kind: 'configured', host: '203.0.113.7', port: 51820 }],
    services: [{ name: 'web', port: 80, proto: 'tcp', type: 'http' }], subnets: [], lastSeq: 0, nowMs: T0,
  };
  return { rnd, mesh, opts, keys: f.identity.sign };
}

const signOf = (a: Action[]) => a.filter((x): x is Extract<Action, { type: 'sign' }> => x.type === 'sign');
const sig = (unsigned: Uint8Array, secretKey: Uint8Array) => sign_detached(unsigned, secretKey);

test('async core: the first record waits for its signature; installed, it is byte for byte the sync core\'s record', () => {
  const { opts, keys } = setup(1);
  const sync = new NodeCore(opts);
  const core = new NodeCore({ ...opts, asyncSign: true });
  const u = core.signRequest;
  assert.ok(u, 'the first record is pending');
  const r = core.installSignature(u!, sig(u!, keys.secretKey), T0);
  assert.is(r.result, 'installed');
  assert.is(core.signRequest, null);
  assert.ok(bytesEqual(core.selfRecord.bytes, sync.selfRecord.bytes), 'same record bytes');
  // A change: both re-sign; the async one through a 'sign' action.
  const lan = [{ kind: 'lan' as const, host: '198.18.0.2', port: 51820 }];
  const syncOut = sync.setLocalEndpoints(lan, T0 + 5000);
  const out = core.setLocalEndpoints(lan, T0 + 5000);
  assert.ok(syncOut.some((a) => a.type === 'persist'));
  assert.equal(out.map((a) => a.type), ['sign'], 'only a sign request until the signature comes');
  assert.is(core.selfRecord.seq, T0, 'the old record stays published meanwhile');
  const [req] = signOf(out);
  const done = core.installSignature(req!.unsigned, sig(req!.unsigned, keys.secretKey), T0 + 5001);
  assert.is(done.result, 'installed');
  assert.equal(done.actions.map((a) => a.type).sort(), ['netmap', 'persist'], 'what resign() returns today (no neighbours yet)');
  assert.ok(bytesEqual(core.selfRecord.bytes, sync.selfRecord.bytes), 'same record bytes after the change');
  assert.is(core.seq, T0 + 5000);
});

test('a superseded pending signature is ignored; the latest one installs', () => {
  const { opts, keys } = setup(2);
  const core = new NodeCore({ ...opts, asyncSign: true });
  core.installSignature(core.signRequest!, sig(core.signRequest!, keys.secretKey), T0);
  const [a] = signOf(core.setServices([], T0 + 1000));
  const [b] = signOf(core.setServices([{ name: 'ssh', port: 22, proto: 'tcp', type: 'ssh' }], T0 + 2000));
  assert.ok(a && b && !bytesEqual(a.unsigned, b.unsigned));
  const old = core.installSignature(a.unsigned, sig(a.unsigned, keys.secretKey), T0 + 2001);
  assert.is(old.result, 'superseded');
  assert.equal(old.actions, []);
  assert.is(core.selfRecord.seq, T0, 'nothing published from the superseded body');
  assert.ok(core.signPending(a.unsigned, T0 + 2002).length === 0, 'the fallback ignores it too');
  const now = core.installSignature(b.unsigned, sig(b.unsigned, keys.secretKey), T0 + 2003);
  assert.is(now.result, 'installed');
  assert.is(core.selfRecord.seq, T0 + 2000);
  assert.equal(core.selfRecord.services.map((s) => s.name), ['ssh']);
  assert.is(core.installSignature(b.unsigned, sig(b.unsigned, keys.secretKey), T0 + 2004).result, 'superseded', 'installed once only');
});

test('a bad signature handed back is refused and changes nothing; the tweetnacl fallback then signs that record', () => {
  const { rnd, mesh, opts, keys } = setup(3);
  const core = new NodeCore({ ...opts, asyncSign: true });
  core.installSignature(core.signRequest!, sig(core.signRequest!, keys.secretKey), T0);
  const before = core.selfRecord.bytes;
  const [req] = signOf(core.setServices([], T0 + 1000));
  const other = issueMember(rnd, mesh, 'other', T0);
  const flipped = sig(req!.unsigned, keys.secretKey);
  flipped[5]! ^= 1;
  for (const bad of [flipped, sig(req!.unsigned, other.identity.sign.secretKey), sig(new Uint8Array(3), keys.secretKey), new Uint8Array(64)]) {
    const r = core.installSignature(req!.unsigned, bad, T0 + 1001);
    assert.is(r.result, 'refused');
    assert.equal(r.actions, []);
    assert.ok(bytesEqual(core.selfRecord.bytes, before), 'the published record is unchanged');
    assert.is(core.signRequest && toHex(core.signRequest), toHex(req!.unsigned), 'still pending');
  }
  const out = core.signPending(req!.unsigned, T0 + 1002);
  assert.ok(out.some((a) => a.type === 'persist'));
  assert.equal(core.selfRecord.services, []);
  assert.ok(bytesEqual(core.selfRecord.bytes, encodeRecord({ ...EMPTY, seq: T0 + 1000, endpoints: core.selfRecord.endpoints }, opts.chain, keys).bytes));
});

test('a primed verdict is used: installing a natively verified signature runs no tweetnacl', () => {
  const { opts, keys } = setup(4);
  const core = new NodeCore({ ...opts, asyncSign: true });
  const u = core.signRequest!;
  const s = sig(u, keys.secretKey);
  assert.ok(primeSignature({ message: u, signature: s, publicKey: keys.publicKey }, true));
  const before = { ...signatureStats };
  assert.is(core.installSignature(u, s, T0).result, 'installed');
  assert.is(signatureStats.tweetnacl, before.tweetnacl, 'no tweetnacl check');
  assert.is(signatureStats.cached, before.cached + 1, 'the primed verdict answered');
});

test('a first record read before its signature came is signed with tweetnacl; its late signature is then superseded', () => {
  const { opts, keys } = setup(5);
  const sync = new NodeCore(opts);
  const core = new NodeCore({ ...opts, asyncSign: true });
  const u = core.signRequest!;
  assert.ok(core.netmap().nodes.some((n) => n.path === 'self'), 'the netmap has us');
  assert.ok(bytesEqual(core.selfRecord.bytes, sync.selfRecord.bytes));
  assert.is(core.signRequest, null);
  assert.is(core.installSignature(u, sig(u, keys.secretKey), T0).result, 'superseded');
});

test.run();
