/// <reference types="node" />
// The Node.js adapter of the platform interface.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { spawn as cpSpawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type {
  Platform, UdpSocket, UdpAddr, Stream, Listener, FileSystem, Processes, ProcessResult,
  Spawned, Clock, SignalName,
} from './types.ts';

/** Wraps a net.Socket as a pull-based Stream. */
export function wrapSocket(sock: net.Socket, remote: string): Stream {
  const chunks: Uint8Array[] = [];
  let ended = false;
  let waiter: ((c: Uint8Array | null) => void) | null = null;
  const deliver = () => {
    if (!waiter) return;
    const w = waiter;
    if (chunks.length) { waiter = null; w(chunks.shift()!); } else if (ended) { waiter = null; w(null); }
  };
  sock.on('data', (d: Buffer) => { chunks.push(new Uint8Array(d)); deliver(); });
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

async function udpBind(address: string, port: number): Promise<UdpSocket> {
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
      const child = cpSpawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let done = false;
      const finish = (r: ProcessResult) => { if (!done) { done = true; clearTimeout(timer); resolve(r); } };
      const timer = setTimeout(() => { child.kill('SIGKILL'); finish({ code: 124, stdout, stderr: stderr + `\n${argv[0]}: timed out` }); }, opts.timeoutMs ?? 15000);
      child.stdout.on('data', (d) => { stdout += d; });
      child.stderr.on('data', (d) => { stderr += d; });
      child.on('error', (e) => finish({ code: 127, stdout, stderr: `${argv[0]}: ${e.message}` }));
      child.on('close', (code) => finish({ code: code ?? 1, stdout, stderr }));
      child.stdin.on('error', () => { /* child may exit before reading */ });
      child.stdin.end(opts.stdin ?? '');
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
