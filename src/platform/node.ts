/// <reference types="node" />
// The Node.js adapter of the platform interface.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { spawn as cpSpawn } from 'node:child_process';
import { randomBytes, webcrypto } from 'node:crypto';
import { webCryptoEd25519, type SubtleEd25519 } from './webcrypto.ts';
import { createRequire } from 'node:module';
import type {
  Platform, UdpSocket, UdpAddr, Stream, Listener, FileSystem, Processes, ProcessResult,
  Spawned, Clock, SignalName,
} from './types.ts';

/** Unread bytes a stream holds before it stops reading from the socket (TCP flow control then holds the peer). */
export const STREAM_HIGH_WATER_BYTES = 64 * 1024;

/** Wraps a net.Socket as a pull-based Stream, reading from the socket only as fast as the stream is read. */
export function wrapSocket(sock: net.Socket, remote: string): Stream {
  const chunks: Uint8Array[] = [];
  let held = 0;
  let ended = false;
  let waiter: ((c: Uint8Array | null) => void) | null = null;
  const deliver = () => {
    if (!waiter) return;
    const w = waiter;
    if (chunks.length) {
      waiter = null;
      const c = chunks.shift()!;
      held -= c.length;
      if (held < STREAM_HIGH_WATER_BYTES / 2 && sock.isPaused()) sock.resume();
      w(c);
    } else if (ended) { waiter = null; w(null); }
  };
  sock.on('data', (d: Buffer) => {
    chunks.push(new Uint8Array(d));
    held += d.length;
    if (held >= STREAM_HIGH_WATER_BYTES) sock.pause();
    deliver();
  });
  sock.on('end', () => { ended = true; deliver(); });
  sock.on('close', () => { ended = true; deliver(); });
  sock.on('error', () => { ended = true; deliver(); });
  return {
    remote,
    read() {
      return new Promise((resolve) => { waiter = resolve; deliver(); });
    },
    write(data) {
      return new Promise((resolve, reject) => {
        if (sock.destroyed) { reject(new Error(`write to closed stream ${remote}`)); return; }
        sock.write(data, (err) => (err ? reject(err) : resolve()));
      });
    },
    close() { sock.end(); sock.destroy(); },
  };
}

/** The batched-UDP addon (src/platform/native): recvmmsg/sendmmsg, one JavaScript call per batch. */
interface NativeUdp {
  BATCH: number;
  SLOT: number;
  bind(address: string, port: number, v6: boolean, onBatch: (n: number) => void): {
    handle: unknown; rx: ArrayBuffer; tx: ArrayBuffer; rx6: ArrayBuffer; meta: ArrayBuffer; port: number;
  };
  flush(handle: unknown): void;
  close(handle: unknown): void;
}

/** Loads the addon if it was built (make build), unless KITH_NATIVE_UDP=0; null means plain dgram. */
function loadNativeUdp(): NativeUdp | null {
  const setting = process.env['KITH_NATIVE_UDP'];
  if (setting === '0') return null;
  const req = createRequire(import.meta.url);
  for (const candidate of [setting, './kith_udp.node', './native/build/Release/kith_udp.node']) {
    if (!candidate) continue;
    try {
      return req(candidate.startsWith('.') ? new URL(candidate, import.meta.url).pathname : candidate) as NativeUdp;
    } catch { /* try the next place */ }
  }
  return null;
}

let nativeUdp: NativeUdp | null | undefined;
const GEN = Symbol('batch');

/** An IPv4 UDP socket on the addon; the same contract as the dgram one. */
function nativeUdpBind(mod: NativeUdp, address: string, port: number): UdpSocket {
  const B = mod.BATCH;
  const SLOT = mod.SLOT;
  const RX_LEN = 0, RX_IP = B, RX_PORT = 2 * B, TX_COUNT = 3 * B, TX_LEN = TX_COUNT + 1, TX_SRC = TX_LEN + B, TX_IP = TX_SRC + B, TX_PORT = TX_IP + B;
  const handlers: ((data: Uint8Array, from: UdpAddr) => void)[] = [];
  const names = new Map<number, string>();
  const name = (ip: number) => {
    let n = names.get(ip);
    if (n === undefined) {
      if (names.size > 4096) names.clear();
      n = `${(ip >>> 24) & 255}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
      names.set(ip, n);
    }
    return n;
  };
  let gen = 0;
  let inBatch = false;
  let oversize = 0;
  let s: ReturnType<NativeUdp['bind']>;
  const onBatch = (n: number) => {
    const meta = new Int32Array(s.meta);
    const rx = new Uint8Array(s.rx);
    gen++;
    inBatch = true;
    try {
      for (let i = 0; i < n; i++) {
        const len = meta[RX_LEN + i]!;
        if (len < 0) { oversize++; continue; } // longer than a slot: dropped whole and counted, never delivered cut
        const from = { address: name(meta[RX_IP + i]! >>> 0), port: meta[RX_PORT + i]!, [GEN]: gen * B + i };
        const data = rx.slice(i * SLOT, i * SLOT + len);
        for (const h of handlers) h(data, from);
      }
    } finally {
      inBatch = false;
    }
  };
  s = mod.bind(address, port, false, onBatch);
  const meta = new Int32Array(s.meta);
  const tx = new Uint8Array(s.tx);
  const done = Promise.resolve();
  let closed = false;
  return {
    local: { address, port: s.port },
    send(data: Uint8Array, to: UdpAddr) {
      if (closed) return Promise.reject(new Error(`send on closed udp socket ${address}:${s.port}`));
      if (data.length > SLOT) return Promise.reject(new Error(`udp datagram of ${data.length} bytes exceeds ${SLOT}`));
      let k = meta[TX_COUNT]!;
      if (k >= B) { mod.flush(s.handle); k = 0; }
      tx.set(data, k * SLOT);
      meta[TX_LEN + k] = data.length;
      const tag = (to as { [GEN]?: number })[GEN];
      if (inBatch && tag !== undefined && Math.floor(tag / B) === gen) {
        meta[TX_SRC + k] = tag % B;
      } else {
        const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(to.address);
        if (!m) return Promise.reject(new Error(`udp send to "${to.address}": not an IPv4 address`));
        meta[TX_SRC + k] = -1;
        meta[TX_IP + k] = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) | 0;
        meta[TX_PORT + k] = to.port;
      }
      meta[TX_COUNT] = k + 1;
      // Inside a batch the addon sends everything at once when the batch returns.
      if (!inBatch) mod.flush(s.handle);
      return done;
    },
    onMessage(handler) { handlers.push(handler); },
    close() { if (!closed) { closed = true; mod.close(s.handle); } },
    get oversize() { return oversize; },
  };
}

async function udpBind(address: string, port: number): Promise<UdpSocket> {
  if (nativeUdp === undefined) nativeUdp = loadNativeUdp();
  if (nativeUdp && !address.includes(':')) {
    try {
      return nativeUdpBind(nativeUdp, address, port);
    } catch (e) {
      throw new Error(`bind ${address}:${port}: ${(e as Error).message}`);
    }
  }
  const sock = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, address, () => { sock.off('error', reject); resolve(); });
  });
  sock.on('error', () => { /* per-datagram errors (ICMP) are not fatal */ });
  const a = sock.address();
  return {
    local: { address: a.address, port: a.port },
    send(data: Uint8Array, to: UdpAddr) {
      return new Promise((resolve, reject) => sock.send(data, to.port, to.address, (e) => (e ? reject(e) : resolve())));
    },
    onMessage(handler) {
      sock.on('message', (msg, rinfo) => handler(new Uint8Array(msg.buffer, msg.byteOffset, msg.length), { address: rinfo.address, port: rinfo.port }));
    },
    close() { try { sock.close(); } catch { /* already closed */ } },
  };
}

function listenServer(server: net.Server, bind: (cb: () => void) => void): Promise<Listener> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    bind(() => {
      server.off('error', reject);
      const a = server.address();
      resolve({ port: typeof a === 'object' && a ? a.port : 0, close: () => server.close() });
    });
  });
}

function connectSocket(opts: net.NetConnectOpts, remote: string, timeoutMs: number): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(opts);
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`connect to ${remote}: timed out after ${timeoutMs} ms`)); }, timeoutMs);
    sock.once('error', (e) => { clearTimeout(timer); reject(new Error(`connect to ${remote}: ${e.message}`)); });
    sock.once('connect', () => { clearTimeout(timer); resolve(wrapSocket(sock, remote)); });
  });
}

const nodeFs: FileSystem = {
  async readFile(path) { return new Uint8Array(await fsp.readFile(path)); },
  async writeFileAtomic(path, data, mode) {
    const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    const fh = await fsp.open(tmp, 'w', mode);
    try {
      await fh.writeFile(data);
      await fh.chmod(mode);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, path);
    // fsync the directory so the rename itself is durable.
    try {
      const dir = await fsp.open(path.replace(/\/[^/]*$/, '') || '.', 'r');
      try { await dir.sync(); } finally { await dir.close(); }
    } catch { /* some filesystems refuse directory fsync */ }
  },
  async stat(path) {
    try {
      const s = await fsp.stat(path);
      return { size: s.size, isDirectory: s.isDirectory(), mode: s.mode & 0o7777 };
    } catch { return null; }
  },
  async mkdirp(path, mode) { await fsp.mkdir(path, { recursive: true, mode }); },
  async remove(path) { await fsp.rm(path, { force: true, recursive: true }); },
  async readDir(path) { return fsp.readdir(path); },
};

const nodeProc: Processes = {
  run(argv, opts = {}) {
    return new Promise<ProcessResult>((resolve) => {
      const child = cpSpawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let done = false;
      const finish = (r: ProcessResult) => { if (!done) { done = true; clearTimeout(timer); resolve(r); } };
      const timer = setTimeout(() => { child.kill('SIGKILL'); finish({ code: 124, stdout, stderr: stderr + `\n${argv[0]}: timed out` }); }, opts.timeoutMs ?? 15000);
      child.stdout.on('data', (d) => { stdout += d; });
      child.stderr.on('data', (d) => { stderr += d; });
      child.on('error', (e) => finish({ code: 127, stdout, stderr: `${argv[0]}: ${e.message}` }));
      child.on('close', (code) => finish({ code: code ?? 1, stdout, stderr }));
    });
  },
  spawn(argv): Spawned {
    const child = cpSpawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
    const exited = new Promise<number>((resolve) => {
      child.on('exit', (code) => resolve(code ?? 1));
      child.on('error', () => resolve(127));
    });
    return { pid: child.pid ?? -1, wait: () => exited, kill: (sig = 'SIGTERM') => { child.kill(sig); } };
  },
};

const nodeClock: Clock = {
  nowMs: () => Date.now(),
  monoMs: () => performance.now(),
  after(ms, fn) { const t = setTimeout(fn, ms); return { cancel: () => clearTimeout(t) }; },
  every(ms, fn) { const t = setInterval(fn, ms); return { cancel: () => clearInterval(t) }; },
};

export function nodePlatform(): Platform {
  return {
    runtime: 'node',
    udp: { bind: udpBind },
    tcp: {
      listen(address, port, onConn) {
        const server = net.createServer((s) => onConn(wrapSocket(s, `${s.remoteAddress}:${s.remotePort}`)));
        return listenServer(server, (cb) => server.listen(port, address, cb));
      },
      connect(host, port, timeoutMs) { return connectSocket({ host, port }, `${host}:${port}`, timeoutMs); },
    },
    unix: {
      listen(path, onConn) {
        try { fs.unlinkSync(path); } catch { /* no stale socket */ }
        const server = net.createServer((s) => onConn(wrapSocket(s, 'unix')));
        return listenServer(server, (cb) => server.listen(path, cb));
      },
      connect(path) { return connectSocket({ path }, path, 5000); },
    },
    fs: nodeFs,
    proc: nodeProc,
    clock: nodeClock,
    random: (n) => new Uint8Array(randomBytes(n)),
    crypto: webCryptoEd25519(webcrypto.subtle as unknown as SubtleEd25519),
    onSignal(sig: SignalName, handler) { process.on(sig, handler); },
    env: (name) => process.env[name],
    args: process.argv.slice(2),
    stdout: (t) => { process.stdout.write(t); },
    stderr: (t) => { process.stderr.write(t); },
    // stdout and stderr are synchronous for files and pipes on Linux, so nothing is lost.
    exit: (code): never => process.exit(code),
    rssBytes: () => process.memoryUsage().rss,
  };
}
