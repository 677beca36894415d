// The txiki.js adapter of the platform interface (txiki.js v26, QuickJS-ng + libuv).
//
// Runtime facts this file relies on (verified against tjs v26.6.0, see test/platform/txiki-smoke.ts):
// - tjs.args is [tjs, ...opts, "run", ...runOpts, script, ...args] under `tjs run`, [exe, ...args] for a
//   `tjs compile`d program; import.meta.url is a file:// URL only in the first case.
// - Socket writes accept only Uint8Array; stream reads arrive in arbitrary chunks.
// - A failed UDP send errors the socket's WritableStream for good; udpBind() rebinds to recover.
// - Reading tjs.stdout / tjs.stderr switches a pipe fd to O_NONBLOCK, after which console output can be
//   lost on a full pipe. This adapter never touches them: it prints through console.log / console.error,
//   which do fwrite + fflush synchronously.
// - Errors are plain Error objects with a string .code ('ENOENT', ...); `instanceof tjs.Error` throws.
// - Stream reads are pulled: a TCP socket is read only while a read() is pending, so a stream nobody
//   reads holds at most one chunk and TCP flow control holds the peer; a write resolves once the
//   kernel took the data, and close() rejects a pending write. So a DNS client that pipelines without
//   reading stalls both directions with no buffering in kithd (test/platform/txiki-limits.ts).
import { webCryptoEd25519, type SubtleEd25519 } from './webcrypto.ts';
import type {
  Platform, UdpSocket, UdpAddr, Stream, Listener, FileSystem, Processes, ProcessResult,
  Spawned, Clock, SignalName,
} from './types.ts';

// ---------------------------------------------------------------------------------------------
// Minimal module-local typings of the txiki.js globals used here (checked against the v26 type
// declarations and the runtime). Module-scoped on purpose: nothing leaks into other files.

interface ReadResult<T> { done: boolean; value?: T }
interface Reader<T> {
  read(): Promise<ReadResult<T>>;
  cancel(reason?: unknown): Promise<void>;
  releaseLock(): void;
}
interface ReadableStream<T> { getReader(): Reader<T> }
interface Writer<T> {
  write(chunk: T): Promise<void>;
  close(): Promise<void>;
  readonly closed: Promise<void>;
  /** null once the stream has errored. */
  readonly desiredSize: number | null;
}
interface WritableStream<T> { getWriter(): Writer<T> }

interface UdpMessage { data: Uint8Array; remoteAddress?: string; remotePort?: number }
interface UdpOpenInfo {
  readable: ReadableStream<UdpMessage>;
  writable: WritableStream<UdpMessage>;
  localAddress: string;
  localPort: number;
}
interface StreamOpenInfo {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
  remoteAddress: string;
  remotePort?: number;
}
interface Socket<Info> {
  readonly opened: Promise<Info>;
  readonly closed: Promise<void>;
  close(): void;
}
interface ServerOpenInfo { readable: ReadableStream<Socket<StreamOpenInfo>>; localPort?: number }

interface StatResult { size: number; mode: number; isDirectory: boolean; isSocket: boolean }
interface FileHandle {
  write(buf: Uint8Array, offset?: number): Promise<number>;
  close(): Promise<void>;
  sync(): Promise<void>;
  chmod(mode: number): Promise<void>;
}
interface DirEnt { name: string }
interface DirHandle extends AsyncIterable<DirEnt> { close(): Promise<void> }

type TjsSignal = SignalName | 'SIGKILL';
interface ProcessStatus { exit_status: number; term_signal: string | null }
interface TjsProcess {
  readonly pid: number;
  kill(sig?: TjsSignal): void;
  wait(): Promise<ProcessStatus>;
  stdin: WritableStream<Uint8Array> | null;
  stdout: ReadableStream<Uint8Array> | null;
  stderr: ReadableStream<Uint8Array> | null;
}
type Stdio = 'inherit' | 'pipe' | 'ignore';

declare const tjs: {
  readonly args: readonly string[];
  readonly env: { [name: string]: string | undefined };
  readonly pid: number;
  exit(code: number): never;
  addSignalListener(sig: TjsSignal, listener: () => void): void;
  listen(transport: 'udp', host: string, port: number): Promise<Socket<UdpOpenInfo>>;
  listen(transport: 'tcp', host: string, port: number): Promise<Socket<ServerOpenInfo>>;
  listen(transport: 'pipe', path: string): Promise<Socket<ServerOpenInfo>>;
  readFile(path: string): Promise<Uint8Array>;
  open(path: string, flags: string, mode?: number): Promise<FileHandle>;
  rename(path: string, newPath: string): Promise<void>;
  stat(path: string): Promise<StatResult>;
  lstat(path: string): Promise<StatResult>;
  makeDir(path: string, options: { mode?: number; recursive?: boolean }): Promise<void>;
  remove(path: string): Promise<void>;
  readDir(path: string): Promise<DirHandle>;
  spawn(args: string[], options: { stdin?: Stdio; stdout?: Stdio; stderr?: Stdio }): TjsProcess;
};
declare const TCPSocket: new (host: string, port: number) => Socket<StreamOpenInfo>;
declare const PipeSocket: new (path: string) => Socket<StreamOpenInfo>;
declare const console: { log(text: string): void; error(text: string): void };
declare function setTimeout(fn: () => void, ms: number): number;
declare function clearTimeout(id: number): void;
declare const performance: { now(): number };
declare const crypto: { getRandomValues(buf: Uint8Array): Uint8Array; subtle?: SubtleEd25519 };
declare class TextEncoder { encode(s: string): Uint8Array }
declare class TextDecoder { decode(b?: Uint8Array, opts?: { stream?: boolean }): string }

// ---------------------------------------------------------------------------------------------

const noop = () => { /* ignored */ };
const errMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));
const errCode = (e: unknown): string | undefined => {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
};
function wrapError(msg: string, cause: unknown): Error {
  const e = new Error(msg) as Error & { code?: string };
  const code = errCode(cause);
  if (code) e.code = code;
  return e;
}

/** Rethrows outside the current promise chain: fatal like an uncaught exception, but loops keep running. */
function reportLater(e: unknown): void { setTimeout(() => { throw e; }, 0); }

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  // getRandomValues refuses more than 65536 bytes per call.
  for (let off = 0; off < n; off += 65536) crypto.getRandomValues(out.subarray(off, Math.min(n, off + 65536)));
  return out;
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '.' : i === 0 ? '/' : path.slice(0, i);
}

/**
 * setTimeout/setInterval measured against performance.now(). tjs arms timers from libuv's cached loop
 * time, so a timer armed after N ms of synchronous work in the same tick fires up to N ms early
 * (setTimeout(fn, 30) after 50 ms of work fires at once). A timer that fires early is re-armed for
 * the rest. `every` re-arms from each tick's firing time, like Node's setInterval.
 */
function monoTimer(ms: number, fn: () => void, repeat: boolean): { cancel(): void } {
  const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
  const period = Math.max(1, delay);
  let id: number | undefined;
  let cancelled = false;
  const arm = (due: number) => {
    id = setTimeout(() => {
      if (cancelled) return;
      const now = performance.now();
      if (now < due - 1) { arm(due); return; } // libuv timers have 1 ms granularity
      if (repeat) arm(now + period);
      fn();
    }, Math.max(0, Math.ceil(due - performance.now())));
  };
  arm(performance.now() + delay);
  return { cancel() { cancelled = true; if (id !== undefined) clearTimeout(id); } };
}

// ---------------------------------------------------------------------------------------------
// UDP

interface UdpGen { sock: Socket<UdpOpenInfo>; writer: Writer<UdpMessage>; dead: boolean }

async function udpBind(address: string, port: number): Promise<UdpSocket> {
  const handlers: ((data: Uint8Array, from: UdpAddr) => void)[] = [];
  let closed = false;

  const open = async (p: number): Promise<{ gen: UdpGen; info: UdpOpenInfo }> => {
    const sock = await tjs.listen('udp', address, p);
    const info = await sock.opened;
    const writer = info.writable.getWriter();
    writer.closed.catch(noop);
    return { gen: { sock, writer, dead: false }, info };
  };

  const readLoop = async (gen: UdpGen, readable: ReadableStream<UdpMessage>) => {
    const reader = readable.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || !value) return;
        const from = { address: value.remoteAddress ?? '', port: value.remotePort ?? 0 };
        for (const h of handlers) {
          try { h(value.data, from); } catch (e) { reportLater(e); }
        }
      }
    } catch {
      // A receive error errors the readable for good: rebind.
      if (!closed) reopen(gen);
    }
  };

  const first = await open(port);
  const local: UdpAddr = { address: first.info.localAddress, port: first.info.localPort };
  let current: Promise<UdpGen> = Promise.resolve(first.gen);
  void readLoop(first.gen, first.info.readable);

  // The socket's WritableStream is dead after one failed send (e.g. ENETUNREACH, EAFNOSUPPORT).
  // Close it and bind the same address and port again; retry every second while that fails.
  function reopen(failed: UdpGen): void {
    if (closed || failed.dead) return;
    failed.dead = true;
    failed.sock.close();
    current = (async () => {
      for (;;) {
        try {
          const { gen, info } = await open(local.port);
          if (closed) { gen.sock.close(); throw new Error('udp socket closed'); }
          void readLoop(gen, info.readable);
          return gen;
        } catch (e) {
          if (closed) throw e;
          await new Promise<void>((r) => { monoTimer(1000, r, false); });
        }
      }
    })();
    current.catch(noop);
  }

  return {
    local,
    async send(data: Uint8Array, to: UdpAddr) {
      if (closed) throw new Error(`send on closed udp socket ${local.address}:${local.port}`);
      const gen = await current;
      if (gen.dead) throw new Error(`udp socket ${local.address}:${local.port} is rebinding`);
      const w = gen.writer;
      try {
        await w.write({ data, remoteAddress: to.address, remotePort: to.port });
      } catch (e) {
        reopen(gen);
        throw wrapError(`udp send to ${to.address}:${to.port}: ${errMessage(e)}`, e);
      }
      if (w.desiredSize === null) {
        // The write "succeeded" but the sink errored the stream: fetch the error, then rebind.
        const e = await w.closed.then(() => new Error('stream closed'), (err: unknown) => err);
        reopen(gen);
        throw wrapError(`udp send to ${to.address}:${to.port}: ${errMessage(e)}`, e);
      }
    },
    onMessage(handler) { handlers.push(handler); },
    close() {
      if (closed) return;
      closed = true;
      current.then((g) => { g.dead = true; g.sock.close(); }, noop);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Streams (TCP and unix sockets)

/** Wraps an opened tjs stream socket as a pull-based Stream. */
function wrapStream(sock: Socket<StreamOpenInfo>, info: StreamOpenInfo, remote: string): Stream {
  const reader = info.readable.getReader();
  const writer = info.writable.getWriter();
  writer.closed.catch(noop);
  let closed = false;
  let ended = false;
  return {
    remote,
    async read() {
      if (closed || ended) return null;
      try {
        const { done, value } = await reader.read();
        if (!done && value) return value;
      } catch { /* connection error: end of stream */ }
      if (!ended) {
        ended = true;
        // Like Node's default (allowHalfOpen false): end our side once the peer's is done. The
        // handle is released when both directions are finished.
        if (!closed) writer.close().catch(noop);
      }
      return null;
    },
    async write(data) {
      if (closed) throw new Error(`write to closed stream ${remote}`);
      try {
        await writer.write(data);
      } catch (e) {
        throw wrapError(`write to ${remote}: ${errMessage(e)}`, e);
      }
    },
    close() {
      if (closed) return;
      closed = true;
      reader.cancel().catch(noop); // resolves a pending read() with null
      sock.close();
    },
  };
}

function acceptLoop(info: ServerOpenInfo, remoteOf: (i: StreamOpenInfo) => string, onConn: (s: Stream) => void): void {
  void (async () => {
    const reader = info.readable.getReader();
    for (;;) {
      let r: ReadResult<Socket<StreamOpenInfo>>;
      try { r = await reader.read(); } catch { return; }
      if (r.done || !r.value) return;
      const conn = r.value;
      try {
        const ci = await conn.opened;
        onConn(wrapStream(conn, ci, remoteOf(ci)));
      } catch (e) {
        conn.close();
        reportLater(e);
      }
    }
  })();
}

async function listenOn(server: Socket<ServerOpenInfo>, remoteOf: (i: StreamOpenInfo) => string,
  onConn: (s: Stream) => void): Promise<Listener> {
  const info = await server.opened;
  acceptLoop(info, remoteOf, onConn);
  return { port: info.localPort ?? 0, close: () => server.close() };
}

function connectStream(make: () => Socket<StreamOpenInfo>, label: string, remote: string, timeoutMs: number): Promise<Stream> {
  return new Promise((resolve, reject) => {
    let sock: Socket<StreamOpenInfo>;
    try { sock = make(); } catch (e) { reject(wrapError(`connect to ${label}: ${errMessage(e)}`, e)); return; }
    let done = false;
    const timer = monoTimer(timeoutMs, () => {
      if (done) return;
      done = true;
      sock.close();
      reject(Object.assign(new Error(`connect to ${label}: timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, false);
    sock.opened.then((info) => {
      if (done) { sock.close(); return; }
      done = true;
      timer.cancel();
      resolve(wrapStream(sock, info, remote));
    }, (e: unknown) => {
      if (done) return;
      done = true;
      timer.cancel();
      reject(wrapError(`connect to ${label}: ${errMessage(e)}`, e));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Files

const txikiFs: FileSystem = {
  readFile: (path) => tjs.readFile(path),
  async writeFileAtomic(path, data, mode) {
    const tmp = `${path}.tmp-${tjs.pid}-${hex(randomBytes(4))}`;
    const fh = await tjs.open(tmp, 'wx', mode);
    try {
      // FileHandle.write is a single write(2): loop until everything is out.
      for (let off = 0; off < data.length;) off += await fh.write(data.subarray(off));
      await fh.chmod(mode); // open's mode is filtered by the umask
      await fh.sync();
      await fh.close();
      await tjs.rename(tmp, path);
    } catch (e) {
      await fh.close().catch(noop);
      await tjs.remove(tmp).catch(noop);
      throw e;
    }
    // fsync the directory so the rename itself is durable.
    try {
      const dir = await tjs.open(dirname(path), 'r');
      try { await dir.sync(); } finally { await dir.close(); }
    } catch { /* some filesystems refuse directory fsync */ }
  },
  async stat(path) {
    try {
      const s = await tjs.stat(path);
      return { size: s.size, isDirectory: s.isDirectory, mode: s.mode & 0o7777 };
    } catch { return null; }
  },
  async mkdirp(path, mode) { await tjs.makeDir(path, { recursive: true, mode }); },
  async remove(path) { await tjs.remove(path); },
  async readDir(path) {
    const dir = await tjs.readDir(path);
    const names: string[] = [];
    try {
      for await (const ent of dir) if (ent.name !== '.' && ent.name !== '..') names.push(ent.name);
    } finally { await dir.close().catch(noop); }
    // Node (libuv scandir) returns names sorted; match it.
    return names.sort();
  },
};

// ---------------------------------------------------------------------------------------------
// Processes

/** Node reports a null exit code for a signal death, which the node adapter turns into 1. */
const exitCode = (s: ProcessStatus) => (s.term_signal ? 1 : s.exit_status);

const txikiProc: Processes = {
  run(argv, opts = {}) {
    return new Promise<ProcessResult>((resolve) => {
      let p: TjsProcess;
      try {
        p = tjs.spawn(argv, { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
      } catch (e) {
        resolve({ code: 127, stdout: '', stderr: `${argv[0]}: ${errMessage(e)}` });
        return;
      }
      let stdout = '';
      let stderr = '';
      let done = false;
      let open = 2; // stdout and stderr not yet at EOF
      let status: ProcessStatus | null = null;
      const readers: (Reader<Uint8Array> | null)[] = [];
      const finish = (r: ProcessResult) => {
        if (done) return;
        done = true;
        timer.cancel();
        for (const rd of readers) rd?.cancel().catch(noop);
        resolve(r);
      };
      const maybeDone = () => { if (status && open === 0) finish({ code: exitCode(status), stdout, stderr }); };
      const timer = monoTimer(opts.timeoutMs ?? 15000, () => {
        try { p.kill('SIGKILL'); } catch { /* already gone */ }
        finish({ code: 124, stdout, stderr: stderr + `\n${argv[0]}: timed out` });
      }, false);
      const track = (stream: ReadableStream<Uint8Array> | null, add: (s: string) => void) => {
        if (!stream) { open--; return; }
        const reader = stream.getReader();
        readers.push(reader);
        const dec = new TextDecoder();
        void (async () => {
          try {
            for (;;) {
              const { done: eof, value } = await reader.read();
              if (eof || !value) break;
              add(dec.decode(value, { stream: true }));
            }
          } catch { /* pipe error: treat as end */ }
          add(dec.decode());
          open--;
          maybeDone();
        })();
      };
      track(p.stdout, (s) => { stdout += s; });
      track(p.stderr, (s) => { stderr += s; });
      p.wait().then((s) => { status = s; maybeDone(); }, () => { status = { exit_status: 1, term_signal: null }; maybeDone(); });
    });
  },
  spawn(argv): Spawned {
    let p: TjsProcess;
    try {
      p = tjs.spawn(argv, { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' });
    } catch {
      return { pid: -1, wait: () => Promise.resolve(127), kill: noop };
    }
    const exited = p.wait().then(exitCode, () => 1);
    return {
      pid: p.pid,
      wait: () => exited,
      kill: (sig = 'SIGTERM') => { try { p.kill(sig); } catch { /* already exited */ } },
    };
  },
};

// ---------------------------------------------------------------------------------------------
// Clock, stdio, args, memory

const txikiClock: Clock = {
  nowMs: () => Date.now(),
  monoMs: () => performance.now(),
  after(ms, fn) { return monoTimer(ms, fn, false); },
  every(ms, fn) { return monoTimer(ms, fn, true); },
};

/**
 * Line-buffered synchronous output through console.log / console.error (fwrite + fflush in C).
 * console appends a newline, so text is printed up to its last newline and a trailing partial line
 * is held until the next newline or exit(), which prints it with a newline added.
 */
function lineWriter(print: (s: string) => void) {
  let pending = '';
  return {
    write(text: string) {
      pending += text;
      const i = pending.lastIndexOf('\n');
      if (i < 0) return;
      const out = pending.slice(0, i);
      pending = pending.slice(i + 1);
      print(out);
    },
    flush() {
      if (!pending) return;
      const out = pending;
      pending = '';
      print(out);
    },
  };
}

/** Arguments after the script: `tjs [opts] run [--import-map m] app.js ...args` or `./compiled ...args`. */
export function scriptArgs(argv: readonly string[], underRun: boolean): string[] {
  if (!underRun) return argv.slice(1);
  const withValue = new Set(['--memory-limit', '--stack-size', '--wasm-stack-size', '--tls-ca', '-e', '--eval']);
  let i = 1;
  while (i < argv.length && argv[i]!.startsWith('-')) i += withValue.has(argv[i]!) ? 2 : 1;
  if (argv[i] !== 'run') return argv.slice(1);
  i++;
  while (i < argv.length && argv[i]!.startsWith('-')) i += argv[i] === '--import-map' ? 2 : 1;
  return argv.slice(i + 1);
}

/** Under `tjs run` the main module has a file:// URL; in a compiled program it has a bare name. */
function underTjsRun(): boolean {
  const url = (import.meta as unknown as { url?: unknown }).url;
  return typeof url === 'string' && url.startsWith('file:');
}

/** Parses /proc/self/status VmRSS (kB), else /proc/self/statm resident pages x 4096. */
function parseRss(status: string | null, statm: string | null): number {
  const m = status && /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (m) return Number(m[1]) * 1024;
  const pages = statm ? Number(statm.trim().split(/\s+/)[1]) : NaN;
  return Number.isFinite(pages) ? pages * 4096 : 0;
}

export function txikiPlatform(): Platform {
  const out = lineWriter((s) => console.log(s));
  const err = lineWriter((s) => console.error(s));

  // tjs has no synchronous file read and no memory-usage API: rssBytes() returns the last value read
  // from /proc and starts a refresh. The first read starts here, so the value is ready almost at once.
  let rss = 0;
  let refreshing = false;
  const refreshRss = () => {
    if (refreshing) return;
    refreshing = true;
    const text = (p: string) => tjs.readFile(p).then((b) => new TextDecoder().decode(b), () => null);
    text('/proc/self/status')
      .then(async (status) => parseRss(status, status && /VmRSS/.test(status) ? null : await text('/proc/self/statm')))
      .then((v) => { if (v > 0) rss = v; }, noop)
      .finally(() => { refreshing = false; });
  };
  refreshRss();

  return {
    runtime: 'txiki',
    udp: { bind: udpBind },
    tcp: {
      async listen(address, port, onConn) {
        return listenOn(await tjs.listen('tcp', address, port), (i) => `${i.remoteAddress}:${i.remotePort}`, onConn);
      },
      connect(host, port, timeoutMs) {
        return connectStream(() => new TCPSocket(host, port), `${host}:${port}`, `${host}:${port}`, timeoutMs);
      },
    },
    unix: {
      async listen(path, onConn) {
        // listen('pipe') fails with EADDRINUSE while the path exists: remove a stale socket (only a socket).
        const st = await tjs.lstat(path).catch(() => null);
        if (st?.isSocket) await tjs.remove(path);
        return listenOn(await tjs.listen('pipe', path), () => 'unix', onConn);
      },
      connect(path) { return connectStream(() => new PipeSocket(path), path, 'unix', 5000); },
    },
    fs: txikiFs,
    proc: txikiProc,
    clock: txikiClock,
    random: randomBytes,
    crypto: webCryptoEd25519(crypto.subtle),
    onSignal(sig: SignalName, handler) { tjs.addSignalListener(sig, () => handler()); },
    env: (name) => tjs.env[name],
    args: scriptArgs(tjs.args, underTjsRun()),
    stdout: (t) => out.write(t),
    stderr: (t) => err.write(t),
    exit(code): never {
      out.flush();
      err.flush();
      return tjs.exit(code);
    },
    rssBytes() { refreshRss(); return rss; },
  };
}
