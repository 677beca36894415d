// Smoke test of the txiki.js platform adapter, run under the real runtime (not by uvu directly):
//   npx esbuild test/platform/txiki-smoke.ts --bundle --format=esm --platform=neutral --target=es2022 \
//     --outfile=/tmp/txiki-smoke.js --external:tjs:*
//   tjs run /tmp/txiki-smoke.js
// Prints one "ok <name>" (or "FAIL <name>: why") line per check, then "txiki-smoke: N ok, M failed",
// and exits non-zero on failure. test/platform/txiki.test.ts drives it.
// If TXIKI_SMOKE_ARGS is set (JSON array), Platform.args must equal it; otherwise it must be empty.
import { txikiPlatform } from '../../src/platform/txiki.ts';
import type { Stream } from '../../src/platform/types.ts';

declare class TextEncoder { encode(s: string): Uint8Array }
declare class TextDecoder { decode(b?: Uint8Array): string }
interface PosixSocketModule {
  PosixSocket: {
    new (domain: number, type: number, protocol: number): { bind(a: Uint8Array): void; listen(n: number): void; close(): void };
    readonly defines: { AF_INET: number; SOCK_STREAM: number };
    createSockaddrIn(ip: string, port: number): Uint8Array;
  };
}

const p = txikiPlatform();
const enc = new TextEncoder();
const dec = new TextDecoder();
let passed = 0;
let failed = 0;

const watchdog = p.clock.after(60_000, () => {
  p.stdout('FAIL watchdog: smoke test hung\n');
  p.exit(3);
});

class CheckError extends Error {}
function expect(cond: unknown, why: string): asserts cond {
  if (!cond) throw new CheckError(why);
}
const show = (v: unknown) => JSON.stringify(v);
const sleep = (ms: number) => new Promise<void>((r) => p.clock.after(ms, r));

async function check(name: string, fn: () => Promise<void> | void): Promise<void> {
  try {
    await fn();
    passed++;
    p.stdout(`ok ${name}\n`);
  } catch (e) {
    failed++;
    p.stdout(`FAIL ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
  }
}

async function rejects(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try { await promise; } catch (e) { return e as Error & { code?: string }; }
  throw new CheckError('expected a rejection');
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) { out.set(c, off); off += c.length; }
  return out;
}

/** Reads until `n` bytes arrived or the stream ended. */
async function readN(s: Stream, n: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let got = 0;
  while (got < n) {
    const c = await s.read();
    if (c === null) break;
    chunks.push(c);
    got += c.length;
  }
  return concat(chunks);
}

/** Echo server: writes back everything, closes at the peer's end of stream. */
function echo(s: Stream): void {
  void (async () => {
    for (let c = await s.read(); c !== null; c = await s.read()) await s.write(c);
    s.close();
  })();
}

const big = p.random(1 << 20);
const tmpBase = `${p.env('TMPDIR') ?? '/tmp'}/kith-txiki-smoke-${Array.from(p.random(6), (b) => b.toString(16).padStart(2, '0')).join('')}`;

// ---------------------------------------------------------------- process basics
await check('runtime', () => expect(p.runtime === 'txiki', show(p.runtime)));

await check('args', () => {
  const want = JSON.parse(p.env('TXIKI_SMOKE_ARGS') ?? '[]') as unknown;
  expect(show(p.args) === show(want), `got ${show(p.args)}, want ${show(want)}`);
});

await check('env', () => {
  expect((p.env('PATH') ?? '').length > 0, 'PATH empty');
  expect(p.env('KITH_SMOKE_SURELY_UNSET_VARIABLE') === undefined, 'unset variable not undefined');
});

await check('stdout', () => {
  p.stdout('stdout line buffering: ');
  p.stdout('one line\nand a second\n');
});

await check('stderr', () => { p.stderr('txiki-smoke stderr line\n'); });

await check('random', () => {
  const a = p.random(32);
  const b = p.random(32);
  expect(a instanceof Uint8Array && a.length === 32, 'length 32');
  expect(!equalBytes(a, b), 'two draws equal');
  expect(p.random(0).length === 0, 'length 0');
  const large = p.random(200_000); // more than one getRandomValues call
  expect(large.length === 200_000 && large.subarray(190_000).some((x) => x !== 0), 'large draw');
});

await check('clock.nowMs/monoMs', async () => {
  expect(Math.abs(p.clock.nowMs() - Date.now()) < 1000, 'nowMs far from Date.now');
  const m0 = p.clock.monoMs();
  await sleep(30);
  const dt = p.clock.monoMs() - m0;
  expect(dt >= 25 && dt < 1000, `monoMs advanced ${dt}`);
});

await check('clock.after/every', async () => {
  let fired = 0;
  let cancelledFired = false;
  let ticks = 0;
  const t0 = p.clock.monoMs();
  const firedAt = await new Promise<number>((resolve) => p.clock.after(50, () => { fired++; resolve(p.clock.monoMs() - t0); }));
  expect(firedAt >= 45, `after(50) fired at ${firedAt}`);
  p.clock.after(20, () => { cancelledFired = true; }).cancel();
  const every = p.clock.every(15, () => { ticks++; });
  await sleep(120);
  every.cancel();
  const ticksAtCancel = ticks;
  await sleep(60);
  expect(fired === 1, `after fired ${fired} times`);
  expect(!cancelledFired, 'cancelled after() fired');
  expect(ticksAtCancel >= 3, `every ticked ${ticksAtCancel} times`);
  expect(ticks === ticksAtCancel, 'every ticked after cancel');
});

await check('clock.after after synchronous work', async () => {
  // tjs arms timers from the loop time cached at the start of the tick; the adapter compensates.
  await sleep(1);
  const t0 = p.clock.monoMs();
  while (p.clock.monoMs() - t0 < 60) { /* busy */ }
  const t1 = p.clock.monoMs();
  const waited = await new Promise<number>((resolve) => p.clock.after(40, () => resolve(p.clock.monoMs() - t1)));
  expect(waited >= 39, `after(40) fired after ${waited} ms`);
  let n = 0;
  const t2 = p.clock.monoMs();
  while (p.clock.monoMs() - t2 < 60) { /* busy */ }
  const t3 = p.clock.monoMs();
  const first = await new Promise<number>((resolve) => {
    const e = p.clock.every(40, () => { if (++n === 1) { e.cancel(); resolve(p.clock.monoMs() - t3); } });
  });
  expect(first >= 39, `every(40) first tick after ${first} ms`);
});

await check('rssBytes', async () => {
  let rss = p.rssBytes();
  for (let i = 0; i < 50 && rss === 0; i++) { await sleep(10); rss = p.rssBytes(); }
  expect(rss > 1_000_000 && rss < 2 ** 40, `rss ${rss}`);
});

await check('onSignal', async () => {
  let got = 0;
  p.onSignal('SIGHUP', () => { got++; });
  // sh is our child, so $PPID is this process.
  const r = await p.proc.run(['sh', '-c', 'kill -HUP $PPID']);
  expect(r.code === 0, `kill: ${show(r)}`);
  for (let i = 0; i < 100 && got === 0; i++) await sleep(10);
  expect(got === 1, `handler ran ${got} times`);
});

// ---------------------------------------------------------------- files
await check('fs.mkdirp', async () => {
  await p.fs.mkdirp(`${tmpBase}/a/b/c`, 0o700);
  await p.fs.mkdirp(`${tmpBase}/a/b/c`, 0o700); // existing: no error
  const st = await p.fs.stat(`${tmpBase}/a/b/c`);
  expect(st?.isDirectory === true, `stat ${show(st)}`);
  expect(st.mode === 0o700, `mode ${st.mode.toString(8)}`);
});

await check('fs.writeFileAtomic+readFile+stat', async () => {
  const path = `${tmpBase}/a/state.json`;
  const data = enc.encode('{"hello":"wörld"}\n');
  await p.fs.writeFileAtomic(path, data, 0o600);
  expect(equalBytes(await p.fs.readFile(path), data), 'read back differs');
  const st = await p.fs.stat(path);
  expect(st !== null && !st.isDirectory && st.size === data.length, `stat ${show(st)}`);
  expect(st.mode === 0o600, `mode ${st.mode.toString(8)}`);
  // Replace with a large file and another mode; no temp file may remain.
  await p.fs.writeFileAtomic(path, big, 0o640);
  expect(equalBytes(await p.fs.readFile(path), big), 'large read back differs');
  expect((await p.fs.stat(path))?.mode === 0o640, 'mode after replace');
  expect(show(await p.fs.readDir(`${tmpBase}/a`)) === show(['b', 'state.json']), 'temp file left behind');
  await p.fs.writeFileAtomic(path, new Uint8Array(0), 0o600);
  expect((await p.fs.stat(path))?.size === 0, 'empty write');
});

await check('fs.writeFileAtomic into missing dir rejects', async () => {
  const e = await rejects(p.fs.writeFileAtomic(`${tmpBase}/missing/x`, enc.encode('x'), 0o600));
  expect(e.code === 'ENOENT', `code ${e.code}`);
});

await check('fs.readDir', async () => {
  for (const n of ['zeta', 'alpha', 'Mid']) await p.fs.writeFileAtomic(`${tmpBase}/a/b/${n}`, enc.encode(n), 0o600);
  const names = await p.fs.readDir(`${tmpBase}/a/b`);
  expect(show(names) === show(['Mid', 'alpha', 'c', 'zeta']), show(names));
  await rejects(p.fs.readDir(`${tmpBase}/nope`));
});

await check('fs.stat missing / readFile missing', async () => {
  expect((await p.fs.stat(`${tmpBase}/nope`)) === null, 'stat of missing path not null');
  const e = await rejects(p.fs.readFile(`${tmpBase}/nope`));
  expect(e.code === 'ENOENT', `code ${e.code}`);
});

await check('fs.remove', async () => {
  await p.fs.remove(`${tmpBase}/a/b/zeta`);
  expect((await p.fs.stat(`${tmpBase}/a/b/zeta`)) === null, 'file still there');
  await p.fs.remove(`${tmpBase}/a`);
  expect((await p.fs.stat(`${tmpBase}/a`)) === null, 'tree still there');
  await p.fs.remove(`${tmpBase}/a`); // missing: no error
});

// ---------------------------------------------------------------- processes
await check('proc.run echo', async () => {
  const r = await p.proc.run(['echo', 'hello', 'wörld']);
  expect(r.code === 0 && r.stdout === 'hello wörld\n' && r.stderr === '', show(r));
});

await check('proc.run: stdin is at end of file at once', async () => {
  const r = await p.proc.run(['cat'], { timeoutMs: 5000 });
  expect(r.code === 0 && r.stdout === '', show(r));
});

await check('proc.run large stdout', async () => {
  const r = await p.proc.run(['sh', '-c', 'i=0; while [ $i -lt 3000 ]; do printf "%099d\\n" $i; i=$((i+1)); done']);
  expect(r.code === 0 && r.stdout.length === 300_000, `got ${r.stdout.length} bytes`);
});

await check('proc.run exit code and stderr', async () => {
  const r = await p.proc.run(['sh', '-c', 'echo out; echo err >&2; exit 3']);
  expect(r.code === 3 && r.stdout === 'out\n' && r.stderr === 'err\n', show(r));
});

await check('proc.run false', async () => {
  const r = await p.proc.run(['false']);
  expect(r.code === 1, show(r));
});

await check('proc.run child ignoring stdin', async () => {
  const r = await p.proc.run(['true']);
  expect(r.code === 0, show(r));
});

await check('proc.run killed by signal', async () => {
  const r = await p.proc.run(['sh', '-c', 'kill -9 $$']);
  expect(r.code !== 0, show(r));
});

await check('proc.run missing binary', async () => {
  const r = await p.proc.run(['/nonexistent/kith-no-such-binary', 'x']);
  expect(r.code === 127 && r.stderr.includes('/nonexistent/kith-no-such-binary') && r.stderr.length > 30, show(r));
  const r2 = await p.proc.run(['kith-no-such-binary-on-path']);
  expect(r2.code === 127, show(r2));
});

await check('proc.run timeout', async () => {
  const t0 = p.clock.monoMs();
  const r = await p.proc.run(['sleep', '5'], { timeoutMs: 200 });
  const dt = p.clock.monoMs() - t0;
  expect(r.code === 124 && r.stderr.includes('timed out'), show(r));
  expect(dt >= 190 && dt < 2000, `took ${dt} ms`);
});

await check('proc.spawn', async () => {
  const s = p.proc.spawn(['sleep', '5']);
  expect(s.pid > 0, `pid ${s.pid}`);
  const t0 = p.clock.monoMs();
  s.kill();
  const code = await s.wait();
  expect(code !== 0 && p.clock.monoMs() - t0 < 2000, `code ${code}`);
  expect((await s.wait()) === code, 'wait twice');
  s.kill('SIGKILL'); // already exited: must not throw
  const t = p.proc.spawn(['sh', '-c', 'echo this output must be discarded; exit 4']);
  expect((await t.wait()) === 4, 'exit 4');
  const m = p.proc.spawn(['/nonexistent/kith-no-such-binary']);
  expect(m.pid === -1 && (await m.wait()) === 127, 'missing binary');
});

// ---------------------------------------------------------------- UDP
await check('udp echo to itself', async () => {
  const a = await p.udp.bind('127.0.0.1', 0);
  const b = await p.udp.bind('127.0.0.1', 0);
  expect(a.local.address === '127.0.0.1' && a.local.port > 0 && a.local.port !== b.local.port, show([a.local, b.local]));
  a.onMessage((data, from) => { void a.send(data, from); });
  const got = new Promise<{ data: Uint8Array; from: { address: string; port: number } }>((resolve) => {
    b.onMessage((data, from) => resolve({ data, from }));
  });
  const msg = enc.encode('ping över udp');
  await b.send(msg, a.local);
  const r = await got;
  expect(equalBytes(r.data, msg), 'payload differs');
  expect(r.from.address === '127.0.0.1' && r.from.port === a.local.port, show(r.from));
  // a datagram to self
  const self = new Promise<Uint8Array>((resolve) => b.onMessage((d) => resolve(d)));
  await b.send(enc.encode('self'), b.local);
  expect(dec.decode(await self) === 'self', 'self datagram');
  a.close();
  b.close();
  const e = await rejects(b.send(msg, a.local));
  expect(/closed/.test(e.message), e.message);
});

await check('udp survives a failed send', async () => {
  const a = await p.udp.bind('127.0.0.1', 0);
  const b = await p.udp.bind('127.0.0.1', 0);
  const port = a.local.port;
  const seen: string[] = [];
  a.onMessage((d) => seen.push(dec.decode(d)));
  await b.send(enc.encode('before'), a.local);
  const e = await rejects(b.send(enc.encode('x'), { address: '::1', port: 9 })); // IPv6 from an IPv4 socket
  expect(e.message.includes('::1'), e.message);
  await b.send(enc.encode('after'), a.local);
  for (let i = 0; i < 100 && seen.length < 2; i++) await sleep(10);
  expect(show(seen) === show(['before', 'after']), show(seen));
  expect(a.local.port === port, 'port changed');
  a.close();
  b.close();
});

// ---------------------------------------------------------------- TCP
await check('tcp echo', async () => {
  const remotes: string[] = [];
  const l = await p.tcp.listen('127.0.0.1', 0, (s) => { remotes.push(s.remote); echo(s); });
  expect(l.port > 0, `port ${l.port}`);
  const c = await p.tcp.connect('127.0.0.1', l.port, 2000);
  expect(c.remote === `127.0.0.1:${l.port}`, c.remote);
  await c.write(enc.encode('hello tcp'));
  expect(dec.decode(await readN(c, 9)) === 'hello tcp', 'small echo');
  // 1 MiB arrives in many chunks; write from a view into a larger buffer.
  const view = new Uint8Array(big.length + 8).subarray(4, 4 + big.length);
  view.set(big);
  const [, back] = await Promise.all([c.write(view), readN(c, big.length)]);
  expect(equalBytes(back, big), `large echo: ${back.length} bytes`);
  expect(/^127\.0\.0\.1:\d+$/.test(remotes[0] ?? ''), show(remotes));
  c.close();
  await rejects(c.write(enc.encode('x')));
  expect((await c.read()) === null, 'read after close');
  l.close();
  await rejects(p.tcp.connect('127.0.0.1', l.port, 2000));
});

await check('tcp end of stream and pending read on close', async () => {
  let server: Stream | undefined;
  const l = await p.tcp.listen('127.0.0.1', 0, (s) => { server = s; });
  const c = await p.tcp.connect('127.0.0.1', l.port, 2000);
  for (let i = 0; i < 100 && !server; i++) await sleep(10);
  expect(server, 'no connection accepted');
  await server.write(enc.encode('bye'));
  server.close();
  expect(dec.decode(await readN(c, 3)) === 'bye', 'data before close');
  expect((await c.read()) === null, 'no end of stream');
  expect((await c.read()) === null, 'second read after end');
  c.close();
  // a read pending while the stream is closed locally resolves with null
  const c2 = await p.tcp.connect('127.0.0.1', l.port, 2000);
  const pending = c2.read();
  await sleep(20);
  c2.close();
  expect((await pending) === null, 'pending read');
  l.close();
});

await check('tcp reset by peer', async () => {
  let server: Stream | undefined;
  const l = await p.tcp.listen('127.0.0.1', 0, (s) => { server = s; });
  const c = await p.tcp.connect('127.0.0.1', l.port, 2000);
  for (let i = 0; i < 100 && !server; i++) await sleep(10);
  expect(server, 'no connection accepted');
  await c.write(enc.encode('never read'));
  await sleep(20);
  server.close(); // unread data in its receive buffer: the kernel sends RST
  await sleep(20);
  expect((await c.read()) === null, 'read after reset');
  await rejects((async () => { for (let i = 0; i < 50; i++) { await c.write(enc.encode('x')); await sleep(2); } })());
  c.close();
  l.close();
});

await check('tcp connect errors', async () => {
  const refused = await rejects(p.tcp.connect('127.0.0.1', 1, 2000));
  expect(refused.code === 'ECONNREFUSED', `${refused.code} ${refused.message}`);
});

await check('tcp connect timeout', async () => {
  // A listening socket with backlog 0 that never accepts: the first connection fills the accept
  // queue, the kernel drops the SYNs of the second, which hangs until our timeout.
  const spec = 'tjs:posix-socket'; // tjs-only module (named exports), kept out of tsc and esbuild
  const { PosixSocket } = (await import(spec)) as PosixSocketModule;
  const d = PosixSocket.defines;
  const ls = new PosixSocket(d.AF_INET, d.SOCK_STREAM, 0);
  let port = 0;
  for (let i = 0; i < 50 && !port; i++) {
    const candidate = 20000 + ((p.random(2)[0]! << 8) | p.random(1)[0]!) % 40000;
    try { ls.bind(PosixSocket.createSockaddrIn('127.0.0.1', candidate)); port = candidate; } catch { /* in use */ }
  }
  expect(port, 'no free port');
  ls.listen(0);
  try {
    const first = await p.tcp.connect('127.0.0.1', port, 2000);
    const t0 = p.clock.monoMs();
    const e = await rejects(p.tcp.connect('127.0.0.1', port, 200));
    const dt = p.clock.monoMs() - t0;
    expect(e.code === 'ETIMEDOUT' && /timed out/.test(e.message), `${e.code} ${e.message}`);
    expect(dt >= 190 && dt < 1500, `took ${dt} ms`);
    first.close();
  } finally {
    ls.close();
  }
});

// ---------------------------------------------------------------- unix sockets
await check('unix echo', async () => {
  await p.fs.mkdirp(tmpBase, 0o700);
  const path = `${tmpBase}/kith.sock`;
  const remotes: string[] = [];
  const l = await p.unix.listen(path, (s) => { remotes.push(s.remote); echo(s); });
  expect(l.port === 0, `port ${l.port}`);
  const c = await p.unix.connect(path);
  expect(c.remote === 'unix', c.remote);
  await c.write(enc.encode('hello unix'));
  expect(dec.decode(await readN(c, 10)) === 'hello unix', 'small echo');
  const [, back] = await Promise.all([c.write(big), readN(c, big.length)]);
  expect(equalBytes(back, big), `large echo: ${back.length} bytes`);
  expect(show(remotes) === show(['unix']), show(remotes));
  c.close();
  l.close();
});

await check('unix stale socket and errors', async () => {
  const path = `${tmpBase}/stale.sock`;
  const moved = `${tmpBase}/moved.sock`;
  const l1 = await p.unix.listen(moved, () => { /* unused */ });
  // Renaming the live socket file leaves a socket file that nobody serves under `path`.
  const mv = await p.proc.run(['mv', moved, path]);
  expect(mv.code === 0, show(mv));
  const l2 = await p.unix.listen(path, echo);
  const c = await p.unix.connect(path);
  await c.write(enc.encode('fresh'));
  expect(dec.decode(await readN(c, 5)) === 'fresh', 'echo on the new listener');
  c.close();
  l2.close();
  l1.close();
  // A non-socket file at the path is not removed.
  await p.fs.writeFileAtomic(path, enc.encode('keep me'), 0o600);
  await rejects(p.unix.listen(path, echo));
  expect(dec.decode(await p.fs.readFile(path)) === 'keep me', 'regular file clobbered');
  const e = await rejects(p.unix.connect(`${tmpBase}/none.sock`));
  expect(e.code === 'ENOENT', `${e.code} ${e.message}`);
});

await p.fs.remove(tmpBase);
watchdog.cancel();
p.stdout(`txiki-smoke: ${passed} ok, ${failed} failed\n`);
// A partial last line is flushed (with a newline) by exit().
p.stdout('txiki-smoke: end');
p.exit(failed ? 1 : 0);
