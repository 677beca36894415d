// Hostile sizes and rates through the txiki.js adapter, run under the real
// runtime (test/platform/txiki-limits.test.ts bundles and drives it):
//  - UDP: datagrams of 1 KB, 4 KB and the largest control message (8 KB)
//    arrive whole; longer ones (just over the addon's 9216-byte slot, and the
//    UDP maximum) arrive whole or are dropped and counted, never cut.
//  - TCP DNS: one connection that pipelines queries with large answers and
//    never reads the replies stalls: the server stops answering (its writes
//    wait for the client) and stops reading (the client's writes wait), so
//    neither side's memory grows; once the client reads, everything flows
//    again until the per-connection query cap closes the connection.
// Prints "ok <name>" or "FAIL <name>: why" per check, then
// "txiki-limits: N ok, M failed", and exits non-zero on failure.
import { txikiPlatform } from '../../src/platform/txiki.ts';
import { startDnsServer, MAX_TCP_QUERIES_PER_CONNECTION } from '../../src/dns/server.ts';
import { buildIndex } from '../../src/dns/zone.ts';
import type { Stream } from '../../src/platform/types.ts';

const p = txikiPlatform();
// The largest control message, from the driver (src/core/gossip.ts pulls in the crypto, which this bundle leaves out).
const MAX_CONTROL_BYTES = Number(p.env('KITH_MAX_CONTROL_BYTES'));
let passed = 0;
let failed = 0;
const watchdog = p.clock.after(120_000, () => { p.stdout('FAIL watchdog: hung\n'); p.exit(3); });
const sleep = (ms: number) => new Promise<void>((r) => p.clock.after(ms, r));
class CheckError extends Error {}
function expect(cond: unknown, why: string): asserts cond { if (!cond) throw new CheckError(why); }
async function check(name: string, fn: () => Promise<void>): Promise<void> {
  try { await fn(); passed++; p.stdout(`ok ${name}\n`); } catch (e) { failed++; p.stdout(`FAIL ${name}: ${e instanceof Error ? e.message : String(e)}\n`); }
}
/** Polls cond every 50 ms for at most ms (a bound on the wait, not a timed assertion). */
async function until(cond: () => boolean, ms: number): Promise<boolean> {
  for (const t0 = p.clock.monoMs(); !cond();) { if (p.clock.monoMs() - t0 > ms) return false; await sleep(50); }
  return true;
}
const pattern = (n: number) => { const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = (i * 7 + n) % 251; return b; };

// ---------------------------------------------------------------- UDP sizes
await check('the driver passed the largest control message', async () => { expect(MAX_CONTROL_BYTES >= 1024 && MAX_CONTROL_BYTES < 9217, `${MAX_CONTROL_BYTES}`); });
await check('udp: 1-8 KB arrive whole; longer ones whole or dropped and counted, never cut', async () => {
  const a = await p.udp.bind('127.0.0.1', 0);
  const b = await p.udp.bind('127.0.0.1', 0);
  const sizes = [1024, 4096, MAX_CONTROL_BYTES, 9217, 65507];
  const got: number[] = [];
  const cut: string[] = [];
  b.onMessage((d) => {
    const whole = sizes.includes(d.length) && d.every((x, i) => x === (i * 7 + d.length) % 251);
    if (whole) got.push(d.length); else cut.push(`${d.length}`);
  });
  try {
    for (const n of sizes) await a.send(pattern(n), b.local);
    const counted = () => (b as { oversize?: number }).oversize ?? 0;
    await until(() => got.length + counted() + cut.length >= sizes.length, 5000);
    expect(cut.length === 0, `delivered cut or corrupt: ${cut.join(',')}`);
    for (const n of sizes.filter((s) => s <= MAX_CONTROL_BYTES)) expect(got.includes(n), `${n} bytes did not arrive (got ${got.join(',')})`);
    const longer = sizes.filter((s) => s > MAX_CONTROL_BYTES);
    const lost = longer.filter((n) => !got.includes(n)).length;
    expect(lost === counted(), `${lost} longer datagrams missing, ${counted()} counted as oversize`);
  } finally {
    a.close();
    b.close();
  }
});

// ---------------------------------------------------------------- TCP DNS backpressure
const ZONE = 'limits.internal';
const SRV_NAME = `_large._tcp.large.n1.${ZONE}`;
const SERVICES = 64; // the most a node may publish: an answer of ~3 KB

function query(id: number, name: string, qtype: number): Uint8Array {
  const labels = name.split('.');
  const q = new Uint8Array(2 + 12 + labels.reduce((n, l) => n + 1 + l.length, 1) + 4);
  const msgLen = q.length - 2;
  q.set([msgLen >> 8, msgLen & 255, id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  let off = 14;
  for (const l of labels) { q[off++] = l.length; for (let i = 0; i < l.length; i++) q[off++] = l.charCodeAt(i); }
  q[off++] = 0;
  q.set([0, qtype, 0, 1], off);
  return q;
}

/** Reads framed replies until `want` complete frames or end of stream; returns the frames' sizes. */
async function readFrames(s: Stream, want: number): Promise<number[]> {
  const sizes: number[] = [];
  let pending = new Uint8Array(0);
  while (sizes.length < want) {
    const c = await s.read();
    if (!c) break;
    const n = new Uint8Array(pending.length + c.length); n.set(pending); n.set(c, pending.length); pending = n;
    while (pending.length >= 2 && pending.length >= 2 + ((pending[0]! << 8) | pending[1]!)) {
      const len = (pending[0]! << 8) | pending[1]!;
      sizes.push(len);
      pending = pending.subarray(2 + len);
    }
  }
  return sizes;
}

await check('tcp dns: a pipelining client that never reads stalls both directions; reading resumes it up to the query cap', async () => {
  const { index } = buildIndex({
    zone: ZONE, ula48: 'fd12:3456:789a::/48', ipv4Pool: '100.64.0.0/10', soaSerial: 1, self: 'n1',
    nodes: [{ name: 'n1', ipv4: '100.64.0.1', ipv6: 'fd12:3456:789a::1', services: Array.from({ length: SERVICES }, (_, i) => ({ name: 'large', port: 2000 + i, proto: 'tcp' as const, owner: 'n1' })) }],
  });
  const server = await startDnsServer(p, { listen: ['127.0.0.1:0'], getIndex: () => index, log: () => { /* quiet */ }, rateLimit: null });
  const port = Number(server.listen[0]!.split(':').pop());
  try {
    // One honest query: the answer is large (so a few thousand unread ones fill the socket buffers).
    const honest = await p.tcp.connect('127.0.0.1', port, 2000);
    await honest.write(query(1, SRV_NAME, 33));
    const [replyLen] = await readFrames(honest, 1);
    honest.close();
    expect(replyLen !== undefined && replyLen > 2000, `the SRV answer is ${replyLen} bytes`);

    const batch = new Uint8Array(256 * query(0, SRV_NAME, 33).length);
    for (let i = 0, off = 0; i < 256; i++) { const q = query(i, SRV_NAME, 33); batch.set(q, off); off += q.length; }
    const perQuery = batch.length / 256;
    const attacker = await p.tcp.connect('127.0.0.1', port, 2000);
    let written = 0;
    let writeError = '';
    void (async () => { for (;;) { await attacker.write(batch); written += batch.length; } })().catch((e: Error) => { writeError = e.message; });
    const rss0 = p.rssBytes();
    // Wait (bounded) until neither side moves for 2 s.
    let last = -1;
    let still = 0;
    await until(() => {
      const now = written + server.stats.tcpQueries;
      still = now === last ? still + 1 : 0;
      last = now;
      return still >= 40;
    }, 60_000);
    expect(still >= 40, `still moving after 60 s: client wrote ${written} bytes, server answered ${server.stats.tcpQueries}`);
    expect(writeError === '', `the client's write failed: ${writeError}`);
    const answered = server.stats.tcpQueries;
    expect(answered < MAX_TCP_QUERIES_PER_CONNECTION, `the server answered ${answered} queries: it was never held`);
    expect(written < 64 * 1024 * 1024, `the server took ${written} bytes of queries without answering them`);
    p.rssBytes(); await sleep(100);
    const grown = p.rssBytes() - rss0;
    expect(grown < 48 * 1024 * 1024, `RSS grew by ${grown} bytes while stalled`);
    p.stdout(`  stalled: client wrote ${(written / 1024).toFixed(0)} KB (${Math.floor(written / perQuery)} queries), server answered ${answered}, RSS +${(grown / 1048576).toFixed(1)} MB\n`);
    // The client reads: replies flow, the server reads on, and the query cap ends the connection
    // (closing with queries unread resets it, so the last replies in flight may be lost).
    const frames = await readFrames(attacker, MAX_TCP_QUERIES_PER_CONNECTION + 1);
    expect(frames.length > answered && frames.length <= MAX_TCP_QUERIES_PER_CONNECTION, `${frames.length} replies before the connection ended`);
    expect(frames.every((n) => n === replyLen), 'every reply whole');
    expect(server.stats.tcpQueries === 1 + MAX_TCP_QUERIES_PER_CONNECTION, `the server answered ${server.stats.tcpQueries} queries (1 honest + the cap)`);
    attacker.close();
  } finally {
    server.close();
  }
});

watchdog.cancel();
p.stdout(`txiki-limits: ${passed} ok, ${failed} failed\n`);
p.exit(failed ? 1 : 0);
