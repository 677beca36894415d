// A fake Platform for running kithd in-process: a virtual clock the test
// advances, a memory file system (optionally with a slow fsync, to widen
// races, and injectable write failures), memory UDP/TCP/unix sockets between
// fake hosts, and scripted `ip`/`wg`/`nft`/`sysctl` that keep a little state
// (so `wg show <if> dump` reflects `wg set`). One FakeNet joins the hosts;
// each FakeHost has its own addresses, files, interfaces and sockets.
/// <reference types="node" />
import type {
  Platform, UdpSocket, UdpAddr, Stream, Listener, FileSystem, FileStat, Processes, ProcessResult, Clock, Timer, SignalName,
} from '../../src/platform/types.ts';
import { seededBytes } from './rand.ts';
import { FakeProc } from './fake-proc.ts';

/** Wall clock at virtual time 0: 2026-12-01T00:00:00Z. */
export const FAKE_EPOCH_MS = Date.UTC(2026, 11, 1);

interface TimerEntry { atMs: number; seq: number; fn: () => void; everyMs: number; cancelled: boolean }

/** Timers fire only when the test advances the clock. */
export class VirtualClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers: TimerEntry[] = [];

  nowMs(): number { return FAKE_EPOCH_MS + this.t; }
  monoMs(): number { return this.t; }
  after(ms: number, fn: () => void): Timer { return this.add(ms, fn, 0); }
  every(ms: number, fn: () => void): Timer { return this.add(ms, fn, Math.max(1, ms)); }

  private add(ms: number, fn: () => void, everyMs: number): Timer {
    const e: TimerEntry = { atMs: this.t + Math.max(0, ms), seq: this.seq++, fn, everyMs, cancelled: false };
    this.timers.push(e);
    return { cancel: () => { e.cancelled = true; } };
  }

  /** Timers still pending. */
  get pending(): number { return this.timers.filter((e) => !e.cancelled).length; }

  /** Moves time forward by ms, firing due timers in order and letting the event loop run after each. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (let fired = 0; fired < 100_000; fired++) {
      this.timers = this.timers.filter((e) => !e.cancelled);
      const due = this.timers.filter((e) => e.atMs <= end).sort((a, b) => a.atMs - b.atMs || a.seq - b.seq)[0];
      if (!due) break;
      this.t = Math.max(this.t, due.atMs);
      if (due.everyMs) due.atMs += due.everyMs;
      else due.cancelled = true;
      due.fn();
      await settle();
    }
    this.t = end;
    await settle();
  }
}

/** Lets pending promise chains and queued callbacks run (a bounded number of event-loop turns). */
export async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
}

export class FakeExit extends Error {
  override name = 'FakeExit';
  constructor(readonly code: number) { super(`exit ${code}`); }
}

interface FileEntry { data: Uint8Array; mode: number }

/** Files in memory. writeFileAtomic writes a temp file, "fsyncs" it (slowly if asked) and renames it. */
export class MemFs implements FileSystem {
  readonly files = new Map<string, FileEntry>();
  readonly dirs = new Set<string>(['/']);
  /** Real milliseconds each fsync takes (0: none). Other callers run meanwhile. */
  fsyncDelayMs = 0;
  /** Returns an error to fail a write of that path (after the temp file was written, before the rename). */
  failWrite: ((path: string) => Error | null) | null = null;
  /** Completed atomic writes per path. */
  readonly writes = new Map<string, number>();

  private static norm(path: string): string { return path.replace(/\/+$/, '') || '/'; }
  private parent(path: string): string { return path.replace(/\/[^/]*$/, '') || '/'; }

  async readFile(path: string): Promise<Uint8Array> {
    const f = this.files.get(MemFs.norm(path));
    if (!f) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
    return f.data.slice();
  }

  async writeFileAtomic(path: string, data: Uint8Array, mode: number): Promise<void> {
    const p = MemFs.norm(path);
    if (!this.dirs.has(this.parent(p))) throw new Error(`ENOENT: no such directory for '${path}'`);
    const tmp = `${p}.tmp-fake`;
    this.files.set(tmp, { data: data.slice(), mode });
    if (this.fsyncDelayMs > 0) await new Promise((r) => setTimeout(r, this.fsyncDelayMs));
    else await Promise.resolve();
    const err = this.failWrite?.(p) ?? null;
    if (err) { this.files.delete(tmp); throw err; }
    const f = this.files.get(tmp);
    this.files.delete(tmp);
    this.files.set(p, f ?? { data: data.slice(), mode });
    this.writes.set(p, (this.writes.get(p) ?? 0) + 1);
  }

  async stat(path: string): Promise<FileStat | null> {
    const p = MemFs.norm(path);
    if (this.dirs.has(p)) return { size: 0, isDirectory: true, mode: 0o755 };
    const f = this.files.get(p);
    return f ? { size: f.data.length, isDirectory: false, mode: f.mode } : null;
  }

  async mkdirp(path: string, _mode: number): Promise<void> {
    let p = MemFs.norm(path);
    while (p !== '/' && !this.dirs.has(p)) { this.dirs.add(p); p = this.parent(p); }
  }

  async remove(path: string): Promise<void> {
    const p = MemFs.norm(path);
    this.files.delete(p);
    for (const k of [...this.files.keys()]) if (k.startsWith(`${p}/`)) this.files.delete(k);
    for (const d of [...this.dirs]) if (d === p || d.startsWith(`${p}/`)) this.dirs.delete(d);
  }

  async readDir(path: string): Promise<string[]> {
    const p = MemFs.norm(path);
    if (!this.dirs.has(p)) throw new Error(`ENOENT: no such directory '${path}'`);
    const prefix = p === '/' ? '/' : `${p}/`;
    const names = new Set<string>();
    for (const k of [...this.files.keys(), ...this.dirs]) if (k.startsWith(prefix) && k !== p) names.add(k.slice(prefix.length).split('/')[0]!);
    return [...names].sort();
  }

  /** A file's text, or null. */
  text(path: string): string | null {
    const f = this.files.get(MemFs.norm(path));
    return f ? new TextDecoder().decode(f.data) : null;
  }

  writeText(path: string, text: string, mode = 0o644): void {
    const p = MemFs.norm(path);
    let d = this.parent(p);
    while (d !== '/' && !this.dirs.has(d)) { this.dirs.add(d); d = this.parent(d); }
    this.files.set(p, { data: new TextEncoder().encode(text), mode });
  }
}

/** One end of a memory byte stream. */
class MemStream implements Stream {
  private inbox: Uint8Array[] = [];
  private waiter: ((c: Uint8Array | null) => void) | null = null;
  private ended = false;
  closed = false;
  peer!: MemStream;
  /** Bytes written to this end that the other end has not read yet. */
  get unread(): number { return this.peer.inbox.reduce((n, c) => n + c.length, 0); }

  constructor(readonly remote: string) {}

  static pair(aRemote: string, bRemote: string): [MemStream, MemStream] {
    const a = new MemStream(aRemote);
    const b = new MemStream(bRemote);
    a.peer = b; b.peer = a;
    return [a, b];
  }

  private deliver(): void {
    if (!this.waiter) return;
    const w = this.waiter;
    if (this.inbox.length) { this.waiter = null; w(this.inbox.shift()!); }
    else if (this.ended || this.closed) { this.waiter = null; w(null); }
  }

  read(): Promise<Uint8Array | null> {
    return new Promise((resolve) => { this.waiter = resolve; this.deliver(); });
  }

  async write(data: Uint8Array): Promise<void> {
    if (this.closed || this.peer.closed) throw new Error(`write to closed stream ${this.remote}`);
    this.peer.inbox.push(data.slice());
    this.peer.deliver();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.inbox = [];
    this.deliver();
    this.peer.ended = true;
    this.peer.deliver();
  }
}

type StreamListener = { address: string; onConn: (s: Stream) => void; closed: boolean };
type UdpBound = { address: string; port: number; handlers: ((d: Uint8Array, from: UdpAddr) => void)[]; closed: boolean };

const WILDCARD = new Set(['0.0.0.0', '::']);
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** The memory network: hosts by address, a shared virtual clock. */
export class FakeNet {
  readonly clock = new VirtualClock();
  readonly hosts: FakeHost[] = [];
  /** Datagrams for which this returns false are dropped (counted in `udpDropped`). */
  udpFilter: ((from: UdpAddr, to: UdpAddr, data: Uint8Array) => boolean) | null = null;
  udpDropped = 0;

  host(name: string, addresses: string[], seed = this.hosts.length + 1): FakeHost {
    const h = new FakeHost(this, name, addresses, seed);
    this.hosts.push(h);
    return h;
  }

  /** The host holding an address (loopback: the asking host). */
  owner(address: string, from: FakeHost): FakeHost | null {
    if (LOOPBACK.has(address)) return from;
    return this.hosts.find((h) => h.addresses.has(address)) ?? null;
  }
}

export class FakeHost {
  readonly fs = new MemFs();
  readonly addresses: Set<string>;
  readonly proc: FakeProc;
  readonly out: string[] = [];
  readonly err: string[] = [];
  readonly env = new Map<string, string>();
  readonly signals = new Map<SignalName, (() => void)[]>();
  readonly tcpListeners = new Map<number, StreamListener[]>();
  readonly unixListeners = new Map<string, StreamListener>();
  readonly udp = new Map<number, UdpBound[]>();
  /** Server-side streams accepted on this host (for tests that look at what was closed). */
  readonly accepted: MemStream[] = [];
  private nextPort = 40000;
  readonly platform: Platform;

  constructor(readonly net: FakeNet, readonly name: string, addresses: string[], seed: number) {
    this.addresses = new Set(addresses);
    this.proc = new FakeProc(this);
    this.fs.writeText('/proc/sys/kernel/hostname', `${name}\n`);
    const random = seededBytes(seed);
    this.platform = {
      runtime: 'node',
      udp: { bind: (a, p) => this.udpBind(a, p) },
      tcp: { listen: (a, p, on) => this.tcpListen(a, p, on), connect: (h, p) => this.tcpConnect(h, p) },
      unix: { listen: (path, on) => this.unixListen(path, on), connect: (path) => this.unixConnect(path) },
      fs: this.fs,
      proc: this.proc as Processes,
      clock: net.clock,
      random,
      onSignal: (sig, h) => { this.signals.set(sig, [...(this.signals.get(sig) ?? []), h]); },
      env: (n) => this.env.get(n),
      args: [],
      stdout: (t) => { this.out.push(t); },
      stderr: (t) => { this.err.push(t); },
      exit: (code): never => { throw new FakeExit(code); },
      rssBytes: () => 0,
    };
  }

  /** This host's first address: the source of what it sends. */
  get primary(): string { return [...this.addresses][0] ?? '127.0.0.1'; }

  /** Everything logged to stdout so far. */
  get log(): string { return this.out.join(''); }

  private bindable(address: string): boolean {
    return WILDCARD.has(address) || LOOPBACK.has(address) || this.addresses.has(address);
  }

  private ephemeral(): number { return this.nextPort++; }

  private async udpBind(address: string, port: number): Promise<UdpSocket> {
    if (!this.bindable(address)) throw new Error(`bind ${address}:${port}: EADDRNOTAVAIL`);
    const p = port || this.ephemeral();
    const list = this.udp.get(p) ?? [];
    if (list.some((b) => !b.closed && (b.address === address || WILDCARD.has(b.address) || WILDCARD.has(address)))) throw new Error(`bind ${address}:${p}: EADDRINUSE`);
    const b: UdpBound = { address, port: p, handlers: [], closed: false };
    this.udp.set(p, [...list.filter((x) => !x.closed), b]);
    const src = WILDCARD.has(address) ? this.primary : address;
    return {
      local: { address, port: p },
      send: async (data, to) => {
        if (b.closed) throw new Error(`send on closed udp socket ${address}:${p}`);
        const from = { address: LOOPBACK.has(to.address) ? to.address : src, port: p };
        if (this.net.udpFilter && !this.net.udpFilter(from, to, data)) { this.net.udpDropped++; return; }
        const target = this.net.owner(to.address, this)?.udp.get(to.port)?.find((x) => !x.closed && (x.address === to.address || WILDCARD.has(x.address)));
        if (!target) return;
        const copy = data.slice();
        setImmediate(() => { if (!target.closed) for (const h of target.handlers) h(copy, from); });
      },
      onMessage: (h) => { b.handlers.push(h); },
      close: () => { b.closed = true; },
    };
  }

  private async tcpListen(address: string, port: number, onConn: (s: Stream) => void): Promise<Listener> {
    if (!this.bindable(address)) throw new Error(`listen ${address}:${port}: EADDRNOTAVAIL`);
    const p = port || this.ephemeral();
    const list = (this.tcpListeners.get(p) ?? []).filter((l) => !l.closed);
    if (list.some((l) => l.address === address || WILDCARD.has(l.address) || WILDCARD.has(address))) throw new Error(`listen ${address}:${p}: EADDRINUSE`);
    const l: StreamListener = { address, onConn, closed: false };
    this.tcpListeners.set(p, [...list, l]);
    return { port: p, close: () => { l.closed = true; } };
  }

  private async tcpConnect(host: string, port: number): Promise<Stream> {
    const target = this.net.owner(host, this);
    const l = target?.tcpListeners.get(port)?.find((x) => !x.closed && (x.address === host || WILDCARD.has(x.address) || (LOOPBACK.has(host) && LOOPBACK.has(x.address))));
    if (!target || !l) throw new Error(`connect to ${host}:${port}: ECONNREFUSED`);
    const src = LOOPBACK.has(host) ? host : this.primary;
    const [client, server] = MemStream.pair(`${host}:${port}`, `${src}:${this.ephemeral()}`);
    target.accepted.push(server);
    setImmediate(() => { if (!l.closed) l.onConn(server); else server.close(); });
    return client;
  }

  private async unixListen(path: string, onConn: (s: Stream) => void): Promise<Listener> {
    const l: StreamListener = { address: path, onConn, closed: false };
    this.unixListeners.set(path, l);
    return { port: 0, close: () => { l.closed = true; this.unixListeners.delete(path); } };
  }

  private async unixConnect(path: string): Promise<Stream> {
    const l = this.unixListeners.get(path);
    if (!l || l.closed) throw new Error(`connect to ${path}: ENOENT`);
    const [client, server] = MemStream.pair(path, 'unix');
    setImmediate(() => l.onConn(server));
    return client;
  }
}

export type { ProcessResult, MemStream };
