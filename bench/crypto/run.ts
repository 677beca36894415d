// The crypto benchmark, run under each runtime through its Platform adapter
// (bench/crypto.sh drives it; one mode per process, since the core's caches
// are per process). Reads the fixture (bench/crypto/fixture.ts) from the path
// in KITH_BENCH_FIXTURE and prints "result <name> <value>" lines.
//   ops          ms per Ed25519 verify and sign: tweetnacl, and native WebCrypto
//   resign       ms per re-sign of the node's own record: the core with tweetnacl,
//                and the core with asyncSign and the daemon's native signer
//   join-nacl    a joiner's 100 member records accepted with tweetnacl only
//   join-native  the same after the daemon's native prefetch (as Mesh.start does)
//   steady       per-datagram costs with native prefetch: a newer record, the
//                same datagram again from another neighbour, an anti-entropy
//                summary that matches (the quiet case), a 100-entry digest (the
//                old protocol, still answered); and one netmap computation
import type { Platform } from '../../src/platform/types.ts';
import { NodeCore } from '../../src/core/node.ts';
import { decodeNetwork } from '../../src/core/network.ts';
import { decodeCert } from '../../src/core/cert.ts';
import { decodeRecord } from '../../src/core/record.ts';
import { fromBase64, utf8Decode } from '../../src/core/bytes.ts';
import { signatureStats, signDetached, clearSignatureCache } from '../../src/core/crypto.ts';
import { encodeControl } from '../../src/core/gossip.ts';
import { summaryOf } from '../../src/core/antientropy.ts';
import { formatIPv4 } from '../../src/core/ip.ts';
import { prefetchSignatures } from '../../src/daemon/sigqueue.ts';
import { NativeSelfSigner } from '../../src/daemon/selfsign.ts';
import { toHex } from '../../src/core/bytes.ts';
import type { Logger } from '../../src/daemon/log.ts';
import { sign_detached_verify } from 'tweetnacl-ts/es/sign.js';

interface Fixture {
  nowMs: number; network: string; chain: string[]; founderSecret: string; records: string[]; newer: string[];
  sample: { publicKey: string; message: string; signature: string };
}

export async function runBench(p: Platform): Promise<void> {
  const mode = p.env('KITH_BENCH_MODE') ?? 'ops';
  const fx = JSON.parse(utf8Decode(await p.fs.readFile(p.env('KITH_BENCH_FIXTURE')!))) as Fixture;
  const out = (name: string, v: number | string) => p.stdout(`result ${p.runtime} ${mode} ${name} ${typeof v === 'number' ? v.toFixed(3) : v}\n`);
  const t = () => p.clock.monoMs();
  const native = p.crypto;
  if (mode === 'ops') {
    const pub = fromBase64(fx.sample.publicKey), msg = fromBase64(fx.sample.message), sig = fromBase64(fx.sample.signature);
    const secret = fromBase64(fx.founderSecret);
    const n = p.runtime === 'txiki' ? 20 : 200;
    let t0 = t();
    for (let i = 0; i < n; i++) if (!sign_detached_verify(msg, sig, pub)) throw new Error('tweetnacl verify failed');
    out('tweetnacl-verify-ms', (t() - t0) / n);
    t0 = t();
    for (let i = 0; i < n; i++) signDetached(msg, secret);
    out('tweetnacl-sign-ms', (t() - t0) / n);
    if (!native) { out('webcrypto', 'absent'); return; }
    await native.verifyEd25519(pub, msg, sig); // key import and self-test outside the timing
    const m = n * 10;
    t0 = t();
    for (let i = 0; i < m; i++) if (!(await native.verifyEd25519(pub, msg, sig))) throw new Error('native verify failed');
    out('webcrypto-verify-ms', (t() - t0) / m);
    t0 = t();
    await Promise.all(Array.from({ length: m }, () => native.verifyEd25519(pub, msg, sig)));
    out('webcrypto-verify-concurrent-ms', (t() - t0) / m);
    // Key import and self-test outside the timing; the signature must be tweetnacl's, bit for bit.
    if (toHex(await native.signEd25519(secret, msg)) !== toHex(sig)) throw new Error('WebCrypto signature differs from tweetnacl\'s');
    t0 = t();
    for (let i = 0; i < m; i++) await native.signEd25519(secret, msg);
    out('webcrypto-sign-ms', (t() - t0) / m);
    return;
  }
  const network = decodeNetwork(fromBase64(fx.network));
  const chain = fx.chain.map((c) => decodeCert(fromBase64(c)));
  const secretKey = fromBase64(fx.founderSecret);
  const signKeys = { secretKey, publicKey: secretKey.slice(32) };
  if (mode === 'resign') { await resignBench(p, { network, chain, signKeys, relay: true, configuredEndpoints: [], services: [], subnets: [], lastSeq: 0, nowMs: fx.nowMs }, out); return; }
  const core = new NodeCore({ network, chain, signKeys, relay: true, configuredEndpoints: [], services: [], subnets: [], lastSeq: 0, nowMs: fx.nowMs });
  const records = fx.records.map(fromBase64);
  clearSignatureCache();
  const now = fx.nowMs;
  if (mode === 'join-nacl' || mode === 'join-native') {
    const t0 = t();
    let primed = 0;
    if (mode === 'join-native') primed = await prefetchSignatures(native, core.signatureChecks({ records }, now));
    const t1 = t();
    const nacl0 = signatureStats.tweetnacl;
    let accepted = 0;
    for (const r of records) if (core.acceptRecord(r, now)) accepted++;
    const t2 = t();
    out('records-accepted', accepted);
    out('native-checks', primed);
    out('tweetnacl-checks', signatureStats.tweetnacl - nacl0);
    out('prefetch-ms', t1 - t0);
    out('accept-ms', t2 - t1);
    out('total-ms', t2 - t0);
    return;
  }
  // steady: all records known; neighbours send newer ones, again, and digests.
  for (const r of records) core.acceptRecord(r, now);
  const ids = records.map((r) => decodeRecord(r, false).id);
  const ip = (i: number) => formatIPv4(core.nodeById(ids[i]!)!.chain[0]!.ipv4);
  const nb = [ip(0), ip(1)];
  const newer = fx.newer.map(fromBase64);
  const handle = async (data: Uint8Array, from: string) => {
    await prefetchSignatures(native, core.signatureChecks({ control: data, fromIPv4: from }, now));
    core.handleControl(data, from, now);
  };
  const nacl0 = signatureStats.tweetnacl;
  let newMs = 0, dupMs = 0;
  for (const r of newer) {
    const data = encodeControl({ type: 'records', records: [r] });
    const t0 = t();
    await handle(data, nb[0]!);
    const t1 = t();
    await handle(data, nb[1]!);
    newMs += t1 - t0;
    dupMs += t() - t1;
  }
  const digest = encodeControl({ type: 'digest', entries: ids.map((id) => ({ id, seq: core.nodeById(id)!.seq })) });
  const rev = core.revocations.summary() as { count: number; hash: Uint8Array };
  const summary = encodeControl({ type: 'summary', ...summaryOf(core.allRecords()), revCount: rev.count, revHash: rev.hash });
  const reps = 50;
  const per = async (data: Uint8Array) => { const t0 = t(); for (let i = 0; i < reps; i++) await handle(data, nb[i % 2]!); return (t() - t0) / reps; };
  const digestMs = await per(digest);
  const summaryMs = await per(summary);
  // A changed record makes the daemon apply a new netmap: one computation each.
  let netmapMs = 0;
  for (let i = 0; i < reps; i++) {
    core.setServices(i % 2 ? [] : [{ name: 'web', port: 80, proto: 'tcp', type: 'http' }], now);
    const t0 = t();
    core.netmap();
    netmapMs += (t() - t0) / reps;
  }
  out('new-record-ms', newMs / newer.length);
  out('duplicate-ms', dupMs / newer.length);
  out('digest-100-ms', digestMs);
  out('summary-ms', summaryMs);
  out('netmap-100-ms', netmapMs);
  out('tweetnacl-checks', signatureStats.tweetnacl - nacl0);
  // 100 members each re-signing once a minute (their daily re-sign and every
  // link or endpoint change, generously), each record arriving about 4 times
  // (rumours go to 4 neighbours) and making a netmap, and a summary from each
  // of 3 neighbours every 2 s.
  const perSec = (100 / 60) * (newMs / newer.length + 3 * (dupMs / newer.length) + netmapMs) + (3 / 2) * summaryMs;
  out('steady-cpu-percent', perSec / 10);
}

/** A service toggled on and off: each change re-signs the own record, as an endpoint or link change does. */
async function resignBench(p: Platform, o: ConstructorParameters<typeof NodeCore>[0], out: (name: string, v: number | string) => void): Promise<void> {
  const n = p.runtime === 'txiki' ? 20 : 200;
  const services = (i: number) => (i % 2 ? [{ name: 'web', port: 80, proto: 'tcp' as const, type: 'http' }] : []);
  const t = () => p.clock.monoMs();
  const sync = new NodeCore(o);
  let t0 = t();
  for (let i = 1; i <= n; i++) sync.setServices(services(i), o.nowMs + i * 1000);
  out('resign-tweetnacl-ms', (t() - t0) / n);
  if (!p.crypto) { out('resign-native', 'absent'); return; }
  clearSignatureCache();
  const quiet: Logger = { level: 'warn', debug() {}, info() {}, warn: (m) => p.stderr(`${m}\n`), error() {}, limited() {} };
  const core: NodeCore = new NodeCore({ ...o, asyncSign: true });
  const signer = new NativeSelfSigner(p.crypto, o.signKeys, () => core, () => o.nowMs, () => undefined, quiet);
  await signer.request(core.signRequest!); // key import and self-test outside the timing
  const nacl0 = signatureStats.tweetnacl;
  t0 = t();
  for (let i = 1; i <= n; i++) {
    for (const a of core.setServices(services(i), o.nowMs + i * 1000)) if (a.type === 'sign') await signer.request(a.unsigned);
  }
  out('resign-native-ms', (t() - t0) / n);
  out('resign-native-signed', signer.counts.native - 1);
  out('resign-native-tweetnacl-checks', signatureStats.tweetnacl - nacl0);
  if (!bytesEq(core.selfRecord.bytes, sync.selfRecord.bytes)) throw new Error('the natively signed record differs from the tweetnacl one');
}

function bytesEq(a: Uint8Array, b: Uint8Array): boolean { return a.length === b.length && a.every((x, i) => x === b[i]); }
