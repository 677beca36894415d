// The core's self-test, runnable in any JavaScript engine (bundled for
// QuickJS-ng by build/qjs-check.mjs, run directly under Node by the unit
// tests): crypto known answers, founding, invites and the join handshake,
// records, gossip between NodeCores, a netmap with a relayed path and the
// prefix rules. Uses only src/core and the pure helpers in test/support — no
// runtime, no clock, no randomness beyond a seeded generator.
import { signKeysFromSeed, signDetached, verifyDetached, x25519PrivateFromRandom, x25519Public } from '../../src/core/crypto.ts';
import { bytesEqual, fromBase64, fromHex, toBase64, toHex } from '../../src/core/bytes.ts';
import { decodeNetwork, networkId } from '../../src/core/network.ts';
import { verifyChain } from '../../src/core/cert.ts';
import { decodeInvite, encodeInvite } from '../../src/core/invite.ts';
import { decodeRecord, encodeRecord } from '../../src/core/record.ts';
import { decodeControl, encodeControl } from '../../src/core/gossip.ts';
import { formatIPv4 } from '../../src/core/ip.ts';
import { decidePrefixes } from '../../src/core/prefixes.ts';
import { seededBytes } from '../support/rand.ts';
import { foundMesh, joinInMemory } from '../support/mesh.ts';
import { MeshSim } from '../support/sim.ts';

const T0 = 1_700_000_000_000;

/** RFC 7748 §6.1 (Alice); `wg pubkey` prints the same public key for this private key. */
const X25519_PRIVATE = 'dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=';
const X25519_PUBLIC = 'hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=';
/** RFC 8032 §7.1, test 1: the empty message. */
const ED25519_SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const ED25519_PUBLIC = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const ED25519_SIG = 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';
/** BLAKE2b-512("kith network id" 0x00 ED25519_PUBLIC), first 12 bytes (checked with Python's hashlib). */
const NETWORK_ID_OF_RFC8032_KEY = '7650aa20f547267dc0c09f2c';

export class SelfTestError extends Error {
  override name = 'SelfTestError';
}

/** Runs every check; prints "selftest: N ok" and returns N, or throws SelfTestError naming the first failure. */
export function selfTest(print: (line: string) => void): number {
  let n = 0;
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new SelfTestError(`selftest: check ${n + 1} failed: ${what}`);
    n++;
  };

  // Crypto known answers.
  const xpriv = fromBase64(X25519_PRIVATE);
  check(toBase64(x25519Public(xpriv)) === X25519_PUBLIC, 'X25519 public key of the RFC 7748 key equals `wg pubkey`');
  check(bytesEqual(x25519PrivateFromRandom(xpriv), x25519PrivateFromRandom(x25519PrivateFromRandom(xpriv))), 'clamping is idempotent');
  const ed = signKeysFromSeed(fromHex(ED25519_SEED));
  check(toHex(ed.publicKey) === ED25519_PUBLIC, 'Ed25519 public key (RFC 8032 test 1)');
  const sig = signDetached(new Uint8Array(0), ed.secretKey);
  check(toHex(sig) === ED25519_SIG, 'Ed25519 signature (RFC 8032 test 1)');
  check(verifyDetached(new Uint8Array(0), sig, ed.publicKey), 'Ed25519 verifies');
  const bad = sig.slice();
  bad[0]! ^= 1;
  check(!verifyDetached(new Uint8Array(0), bad, ed.publicKey), 'Ed25519 rejects a flipped bit');
  check(toHex(networkId(ed.publicKey)) === NETWORK_ID_OF_RFC8032_KEY, 'BLAKE2b network id');

  // Founding, invites, joining.
  const rnd = seededBytes(2024);
  const mesh = foundMesh(rnd, { name: 'selftest', nowMs: T0 });
  const params = decodeNetwork(mesh.network.bytes).params;
  check(params.zone === 'selftest.internal', 'network zone');
  check(formatIPv4(verifyChain(mesh.founder.chain, params, T0).ipv4) === '100.64.0.1', 'founder certificate verifies');
  const code = { networkId: networkId(params.networkPub), secret: rnd(16), endpoints: [{ host: '192.0.2.1', port: 51820 }] };
  const text = encodeInvite(code);
  check(text.startsWith('kith1-') && bytesEqual(decodeInvite(text).secret, code.secret), 'invite code round trip');
  const control = encodeControl({ type: 'digest', entries: [{ id: '0011223344556677', seq: T0 }] });
  check(encodeControl(decodeControl(control)).length === control.length, 'gossip control round trip');

  const sim = new MeshSim(mesh, rnd, T0);
  const hub = sim.addFounder();
  const a = sim.join(hub, 'a');
  const b = sim.join(hub, 'b', { admin: true });
  check(verifyChain(a.member.chain, params, T0).name === 'a' && verifyChain(b.member.chain, params, T0).admin, 'joined members verify');
  check(new Set([hub.ipv4, a.ipv4, b.ipv4]).size === 3, `distinct addresses ${hub.ipv4} ${a.ipv4} ${b.ipv4}`);
  const reuse = hub.member.invites.length;
  const again = joinInMemory(rnd, mesh, hub.member, { name: 'a', nowMs: T0 + 1 });
  check(again.member === null && /taken/.test(again.result.refused ?? ''), 'a taken name is refused');
  check(hub.member.invites.length === reuse + 1 && hub.member.invites[reuse]!.usedBy === null, 'the refused invite stays unused');

  // Records.
  const rec = a.core.selfRecord;
  check(decodeRecord(rec.bytes).seq === rec.seq, 'a record decodes and verifies');
  const forged = rec.bytes.slice();
  forged[forged.length - 1]! ^= 1;
  const seqAt = 2 + rec.chain.reduce((s, c) => s + 2 + c.bytes.length, 0);
  forged[seqAt + 2]! += 1;
  check(!hub.core.acceptRecord(forged, T0) && hub.core.dropped.badSignature === 1, 'a forged newer record is dropped and counted');
  check(encodeRecord(decodeRecord(rec.bytes), rec.chain, a.member.identity.sign).bytes.length === rec.bytes.length, 'record re-encodes');

  // Gossip between NodeCores: a and b each have a session with the hub only.
  sim.link(hub, a);
  sim.link(hub, b);
  const took = sim.runUntilConverged(30_000);
  check(took !== null, 'three NodeCores converge by gossip');
  check(a.core.allRecords().length === 3 && b.core.allRecords().length === 3, 'everyone holds every record');

  // Netmap: a reaches b relayed through the hub, end to end: the hub's peer holds only b's transport address.
  const nm = a.core.netmap();
  const toB = nm.nodes.find((x) => x.name === 'b');
  check(toB?.path === 'relayed' && toB.via === 'hub', `a reaches b relayed via the hub (got ${toB?.path} via ${toB?.via})`);
  check(nm.peers.length === 1 && !nm.peers[0]!.allowedIPs.includes(`${b.ipv4}/32`) && nm.peers[0]!.allowedIPs.length === 4, "the hub's peer at a holds the hub's addresses and b's transport address, never b's overlay address");
  check(nm.e2ePeers.length === 1 && nm.e2ePeers[0]!.allowedIPs.includes(`${b.ipv4}/32`) && (nm.e2ePeers[0]!.endpoint ?? '').includes(':ffff:'), "b is a's end-to-end peer, dialled at its transport address");
  const hubNm = hub.core.netmap();
  check(hubNm.peers.length === 2 && hubNm.nodes.every((x) => x.path === 'self' || x.path === 'direct'), 'the hub reaches both directly');

  // Prefix rules: the same decisions inside the engine (byte masks, the sorted claims).
  const pv = decidePrefixes([
    { id: 'aa00000000000000', name: 'x', issuedAtMs: T0, subnets: ['0.0.0.0/0', '198.18.3.0/24', '198.18.9.0/24', '2001:db8::/32'] },
    { id: 'bb00000000000000', name: 'y', issuedAtMs: T0 + 1, subnets: ['198.18.3.128/25', '10.1.2.3/8', '100.64.0.0/16', '198.18.4.0/24'] },
  ], 'cc00000000000000', params, ['198.18.9.1/24']);
  // The clash of 198.18.3.0/24 and 198.18.3.128/25: both get a mapped block (the pool's block 15), the first keeps its route.
  const ma = pv.mapped.get('aa00000000000000')?.[0]?.mappedTo ?? '';
  const mb = pv.mapped.get('bb00000000000000')?.[0]?.mappedTo ?? '';
  check(/^100\.(12[4-7])\.\d+\.0\/24$/.test(ma) && /^100\.(12[4-7])\.\d+\.(0|128)\/25$/.test(mb), `prefixes: mapped blocks (${ma} ${mb})`);
  check(pv.accepted.get('aa00000000000000')!.join() === `198.18.3.0/24,${ma},2001:db8::/32` && pv.accepted.get('bb00000000000000')!.join() === `${mb},198.18.4.0/24`, 'prefixes: what is routed');
  check(pv.refused.map((r) => r.kind).join() === 'too-short,host-bits,pool,connected', `prefixes: the refusals (${pv.refused.map((r) => r.kind).join()})`);

  print(`selftest: ${n} ok`);
  return n;
}
