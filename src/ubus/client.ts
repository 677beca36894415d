// UbusClient: the ubus protocol state machine (protocol.ts) joined to a unix
// socket and the clock of the Platform. It reconnects with exponential backoff
// when the socket closes and then registers its objects and event listeners
// again; requests made while disconnected wait for the connection, bounded by
// their own timeout.
import type { LogLevel, Platform, Stream, Timer } from '../platform/types.ts';
import { BlobDecodeError, decodeBlobmsgTable, type BlobTable } from './blob.ts';
import { UBUS_STATUS, type UbusAttrs } from './message.ts';
import { decodeSignature, type UbusArgPolicy, type UbusMethod, type UbusMethods } from './policy.ts';
import { UbusProtocol, type ListenerEntry, type ObjectEntry, type ProtocolEvent, type ServerEntry } from './protocol.ts';
import { UbusError } from './errors.ts';

export const UBUS_DEFAULT_SOCKET = '/var/run/ubus/ubus.sock';
export const UBUS_DEFAULT_TIMEOUT_MS = 5000;
export const RECONNECT_MIN_MS = 100;
export const RECONNECT_MAX_MS = 5000;
/** How long ubusd may take to say HELLO after the socket connects. */
export const HELLO_TIMEOUT_MS = 2000;

/** What the client needs from the platform. */
export type UbusPlatform = Pick<Platform, 'unix' | 'clock'>;

export interface UbusClientOptions {
  socketPath?: string;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  helloTimeoutMs?: number;
  log?: (level: LogLevel, message: string) => void;
}

/** One object from LOOKUP. signature maps method → argument → blobmsg type id. */
export interface UbusObjectInfo {
  path: string;
  id: number;
  typeId?: number;
  signature: Record<string, Record<string, number>>;
}

/** A registered server object; `id` changes when the client reconnects. */
export interface UbusObjectHandle {
  readonly name: string;
  readonly id: number;
  remove(): Promise<void>;
}

export interface UbusListener {
  readonly patterns: readonly string[];
  close(): Promise<void>;
}

type Reg =
  | { kind: 'object'; entry: ServerEntry; objId: number }
  | { kind: 'listener'; entry: ListenerEntry; patterns: string[]; objId: number };

interface Conn {
  proto: UbusProtocol;
  stream: Stream;
  waiting: Map<number, (ev: Extract<ProtocolEvent, { kind: 'reply' }>) => void>;
  writes: Promise<void>;
  open: boolean;
}

export class UbusClient {
  private readonly path: string;
  private readonly minMs: number;
  private readonly maxMs: number;
  private readonly helloMs: number;
  private readonly log: (level: LogLevel, message: string) => void;
  private conn: Conn | null = null;
  private readonly regs = new Set<Reg>();
  private readonly readyWaiters = new Set<() => void>();
  private running = false;
  private closed = false;
  private timer: Timer | null = null;
  private sleeper: { timer: Timer; wake: () => void } | null = null;

  constructor(private readonly platform: UbusPlatform, opts: UbusClientOptions = {}) {
    this.path = opts.socketPath ?? UBUS_DEFAULT_SOCKET;
    this.minMs = opts.reconnectMinMs ?? RECONNECT_MIN_MS;
    this.maxMs = opts.reconnectMaxMs ?? RECONNECT_MAX_MS;
    this.helloMs = opts.helloTimeoutMs ?? HELLO_TIMEOUT_MS;
    this.log = opts.log ?? (() => {});
  }

  /** Our ubus client id (from HELLO), 0 while disconnected. */
  get clientId(): number { return this.ready() ? this.conn!.proto.clientId : 0; }
  get connected(): boolean { return this.ready(); }

  /** Starts the connection (and its automatic reconnection) and waits for HELLO. */
  async connect(timeoutMs = UBUS_DEFAULT_TIMEOUT_MS): Promise<void> {
    await this.connection(this.now() + timeoutMs, `ubus connect ${this.path}`);
  }

  /** Objects whose path matches (exact, or prefix with a trailing "*"); all objects without a path. */
  async lookup(path?: string, timeoutMs = UBUS_DEFAULT_TIMEOUT_MS): Promise<UbusObjectInfo[]> {
    const what = `ubus list ${path ?? ''}`.trim();
    const ev = await this.request(what, timeoutMs, (p, now, left) => p.lookup(path, now, left));
    const out: UbusObjectInfo[] = [];
    for (const r of ev.data) {
      if (r.objPath === undefined || r.objId === undefined) continue;
      const info: UbusObjectInfo = { path: r.objPath, id: r.objId, signature: {} };
      if (r.objType !== undefined) info.typeId = r.objType;
      if (r.signature) info.signature = this.decode(what, () => decodeSignature(r.signature!));
      out.push(info);
    }
    return out;
  }

  /** Calls objPath.method; resolves with the DATA replies merged into one object ({} if none). */
  async call(objPath: string, method: string, args: BlobTable = {}, timeoutMs = UBUS_DEFAULT_TIMEOUT_MS): Promise<BlobTable> {
    if (objPath.includes('*')) throw new TypeError(`ubus call: object path "${objPath}" may not contain "*"`);
    const deadline = this.now() + timeoutMs;
    const what = `ubus call ${objPath} ${method}`;
    const objs = await this.lookup(objPath, timeoutMs);
    const obj = objs.find((o) => o.path === objPath);
    if (!obj) throw new UbusError(UBUS_STATUS.NOT_FOUND, what);
    return this.invokeAs(what, obj.id, method, args, Math.max(0, deadline - this.now()));
  }

  /** Calls a method on an object id (from lookup), without a lookup of its own. */
  invoke(objId: number, method: string, args: BlobTable = {}, timeoutMs = UBUS_DEFAULT_TIMEOUT_MS): Promise<BlobTable> {
    return this.invokeAs(`ubus invoke ${objId.toString(16).padStart(8, '0')} ${method}`, objId, method, args, timeoutMs);
  }

  private async invokeAs(what: string, objId: number, method: string, args: BlobTable, timeoutMs: number): Promise<BlobTable> {
    const ev = await this.request(what, timeoutMs, (p, now, left) => p.invoke(objId, method, args, now, left));
    return this.mergeData(what, ev.data);
  }

  /** PING: ubusd echoes it as DATA then STATUS 0. */
  async ping(timeoutMs = UBUS_DEFAULT_TIMEOUT_MS): Promise<void> {
    await this.request('ubus ping', timeoutMs, (p, now, left) => p.ping(now, left));
  }

  /** Sends an event; ubusd refuses names starting with "ubus." (PERMISSION_DENIED). */
  async sendEvent(id: string, data: BlobTable = {}, timeoutMs = UBUS_DEFAULT_TIMEOUT_MS): Promise<void> {
    await this.request(`ubus send ${id}`, timeoutMs, (p, now, left) => p.sendEvent(id, data, now, left));
  }

  /** Delivers events whose name matches one of the patterns ("a.b", or prefix "a.*", or "*"). */
  async listen(patterns: string | string[], handler: (name: string, data: BlobTable) => void | Promise<void>, timeoutMs = UBUS_DEFAULT_TIMEOUT_MS): Promise<UbusListener> {
    const list = typeof patterns === 'string' ? [patterns] : [...patterns];
    const entry: ListenerEntry = { kind: 'listener', onEvent: handler };
    const reg: Reg = { kind: 'listener', entry, patterns: list, objId: 0 };
    const conn = await this.connection(this.now() + timeoutMs, `ubus listen ${list.join(' ')}`);
    await this.register(conn, reg, timeoutMs);
    this.regs.add(reg);
    return { patterns: list, close: () => this.unregister(reg, timeoutMs) };
  }

  /**
   * Registers a server object. Each method has an argument policy and a
   * handler; see policy.ts for what callers get back in each case.
   */
  async addObject<M extends Record<string, UbusArgPolicy>>(
    name: string, methods: { [K in keyof M]: UbusMethod<M[K]> }, timeoutMs = UBUS_DEFAULT_TIMEOUT_MS,
  ): Promise<UbusObjectHandle> {
    const entry: ServerEntry = { kind: 'object', name, methods: methods as unknown as UbusMethods };
    const reg: Reg = { kind: 'object', entry, objId: 0 };
    const conn = await this.connection(this.now() + timeoutMs, `ubus add ${name}`);
    await this.register(conn, reg, timeoutMs);
    this.regs.add(reg);
    return { name, get id() { return reg.objId; }, remove: () => this.unregister(reg, timeoutMs) };
  }

  /** Closes the socket for good; open requests fail with CONNECTION_FAILED. */
  close(): void {
    this.closed = true;
    this.regs.clear();
    this.timer?.cancel();
    this.sleeper?.wake();
    this.conn?.stream.close();
    for (const w of [...this.readyWaiters]) w();
  }

  // ------------------------------------------------------------ connection

  private now(): number { return this.platform.clock.monoMs(); }
  private ready(): boolean { return this.conn !== null && this.conn.proto.state === 'ready'; }

  private async connection(deadline: number, what: string): Promise<Conn> {
    if (this.closed) throw new UbusError(UBUS_STATUS.CONNECTION_FAILED, `${what}: client closed`);
    if (!this.running) { this.running = true; void this.run(); }
    while (!this.ready()) {
      const left = deadline - this.now();
      if (this.closed || left <= 0) throw new UbusError(UBUS_STATUS.CONNECTION_FAILED, `${what}: not connected to ${this.path}`);
      await new Promise<void>((resolve) => {
        const done = () => { t.cancel(); this.readyWaiters.delete(done); resolve(); };
        const t = this.platform.clock.after(left, done);
        this.readyWaiters.add(done);
      });
    }
    return this.conn!;
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.closed) {
      let stream: Stream | null = null;
      try {
        stream = await this.platform.unix.connect(this.path);
      } catch (e) {
        if (attempt === 0) this.log('warn', `ubus: cannot connect to ${this.path}: ${(e as Error).message}`);
      }
      if (stream && this.closed) stream.close();
      else if (stream && await this.session(stream)) attempt = 0;
      if (this.closed) break;
      const delay = Math.min(this.maxMs, this.minMs * 2 ** Math.min(attempt++, 20));
      await new Promise<void>((resolve) => {
        const wake = () => { this.sleeper = null; timer.cancel(); resolve(); };
        const timer = this.platform.clock.after(delay, wake);
        this.sleeper = { timer, wake };
      });
    }
    this.running = false;
  }

  /** Runs one connection until it ends; true if it got as far as HELLO. */
  private async session(stream: Stream): Promise<boolean> {
    const conn: Conn = { proto: new UbusProtocol(), stream, waiting: new Map(), writes: Promise.resolve(), open: true };
    this.conn = conn;
    const helloTimer = this.platform.clock.after(this.helloMs, () => {
      if (conn.proto.state === 'hello') { this.log('warn', `ubus: no HELLO from ${this.path} within ${this.helloMs} ms`); stream.close(); }
    });
    let hello = false;
    try {
      for (;;) {
        const chunk = await stream.read();
        if (chunk === null) break;
        conn.proto.receive(chunk, this.now());
        hello ||= conn.proto.state === 'ready';
        this.pump(conn);
        if (conn.proto.state !== 'ready' && conn.proto.state !== 'hello') break;
      }
    } finally {
      helloTimer.cancel();
      conn.open = false;
      stream.close();
      if (this.conn === conn) this.conn = null;
      conn.proto.close();
      this.pump(conn);
    }
    if (hello && !this.closed) this.log('warn', `ubus: connection to ${this.path} lost, reconnecting`);
    return hello;
  }

  /** Sends queued frames, handles queued events, re-arms the deadline timer. */
  private pump(conn: Conn): void {
    for (let f = conn.proto.pollTransmit(); f; f = conn.proto.pollTransmit()) {
      const frame = f;
      if (conn.open) conn.writes = conn.writes.then(() => conn.stream.write(frame)).catch(() => conn.stream.close());
    }
    for (let ev = conn.proto.pollEvent(); ev; ev = conn.proto.pollEvent()) this.onEvent(conn, ev);
    if (this.conn !== conn) return;
    this.timer?.cancel();
    const deadline = conn.proto.pollTimeout();
    if (deadline !== null) {
      this.timer = this.platform.clock.after(Math.max(0, deadline - this.now()), () => {
        conn.proto.handleTimeout(this.now());
        this.pump(conn);
      });
    }
  }

  private onEvent(conn: Conn, ev: ProtocolEvent): void {
    switch (ev.kind) {
      case 'hello':
        this.log('info', `ubus: connected to ${this.path} as client ${ev.clientId.toString(16).padStart(8, '0')}`);
        for (const w of [...this.readyWaiters]) w();
        void this.restore(conn);
        break;
      case 'reply': {
        const w = conn.waiting.get(ev.id);
        conn.waiting.delete(ev.id);
        w?.(ev);
        break;
      }
      case 'invoke': void this.serve(conn, ev); break;
      case 'event':
        try {
          void Promise.resolve(ev.listener.onEvent(ev.name, ev.data)).catch((e: unknown) => this.log('warn', `ubus event ${ev.name}: handler failed: ${String(e)}`));
        } catch (e) {
          this.log('warn', `ubus event ${ev.name}: handler failed: ${String(e)}`);
        }
        break;
      case 'warning': this.log('debug', `ubus: ${ev.message}`); break;
      case 'failed': this.log('warn', `ubus: ${ev.reason}`); break;
    }
  }

  private async serve(conn: Conn, ev: Extract<ProtocolEvent, { kind: 'invoke' }>): Promise<void> {
    let status: number = UBUS_STATUS.OK;
    let data: unknown;
    try {
      data = (await ev.method.handler(ev.args, ev.ctx)) ?? undefined;
    } catch (e) {
      if (e instanceof UbusError) status = e.status;
      else {
        status = UBUS_STATUS.UNKNOWN_ERROR;
        this.log('warn', `ubus ${ev.ctx.object}.${ev.ctx.method}: handler threw ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      }
    }
    if (!conn.open) return; // the caller already got an error from ubusd
    conn.proto.completeInvoke(ev.id, status === UBUS_STATUS.OK ? { status, data } : { status });
    this.pump(conn);
  }

  private async request(what: string, timeoutMs: number, start: (p: UbusProtocol, nowMs: number, leftMs: number) => number): Promise<Extract<ProtocolEvent, { kind: 'reply' }>> {
    const deadline = this.now() + timeoutMs;
    const conn = await this.connection(deadline, what);
    const now = this.now();
    const id = start(conn.proto, now, Math.max(0, deadline - now));
    const reply = new Promise<Extract<ProtocolEvent, { kind: 'reply' }>>((resolve) => conn.waiting.set(id, resolve));
    this.pump(conn);
    const ev = await reply;
    if (ev.status !== UBUS_STATUS.OK) throw new UbusError(ev.status, what);
    return ev;
  }

  private decode<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof BlobDecodeError)) throw e;
      throw new UbusError(UBUS_STATUS.PARSE_ERROR, `${what}: malformed reply (${e.message})`);
    }
  }

  private mergeData(what: string, replies: UbusAttrs[]): BlobTable {
    const out: BlobTable = {};
    for (const r of replies) {
      if (!r.data) continue;
      const t = this.decode(what, () => decodeBlobmsgTable(r.data!, what));
      for (const k of Object.keys(t)) Object.defineProperty(out, k, { value: t[k], enumerable: true, writable: true, configurable: true });
    }
    return out;
  }

  // --------------------------------------------------------- registrations

  private async register(conn: Conn, reg: Reg, timeoutMs: number): Promise<void> {
    const what = reg.kind === 'object' ? `ubus add ${reg.entry.name}` : `ubus listen ${reg.patterns.join(' ')}`;
    const ev = await this.requestOn(conn, what, timeoutMs, (p, now, left) => p.addObject(reg.entry as ObjectEntry, now, left));
    const objId = ev.data.find((d) => d.objId !== undefined)?.objId;
    if (objId === undefined) throw new UbusError(UBUS_STATUS.UNKNOWN_ERROR, `${what}: reply carries no object id`);
    reg.objId = objId;
    if (reg.kind === 'listener') {
      for (const pattern of reg.patterns) {
        await this.requestOn(conn, `${what} (register "${pattern}")`, timeoutMs, (p, now, left) => p.registerEvent(objId, pattern, now, left));
      }
    }
  }

  /** Like request(), but only on the given connection (registrations belong to one). */
  private async requestOn(conn: Conn, what: string, timeoutMs: number, start: (p: UbusProtocol, nowMs: number, leftMs: number) => number): Promise<Extract<ProtocolEvent, { kind: 'reply' }>> {
    if (!conn.open) throw new UbusError(UBUS_STATUS.CONNECTION_FAILED, what);
    const id = start(conn.proto, this.now(), timeoutMs);
    const reply = new Promise<Extract<ProtocolEvent, { kind: 'reply' }>>((resolve) => conn.waiting.set(id, resolve));
    this.pump(conn);
    const ev = await reply;
    if (ev.status !== UBUS_STATUS.OK) throw new UbusError(ev.status, what);
    return ev;
  }

  private async restore(conn: Conn): Promise<void> {
    for (const reg of [...this.regs]) {
      if (reg.objId !== 0 && conn.proto.objectIds().includes(reg.objId)) continue; // registered on this connection already
      try {
        await this.register(conn, reg, UBUS_DEFAULT_TIMEOUT_MS);
        this.log('info', `ubus: re-registered ${reg.kind === 'object' ? `object ${reg.entry.name}` : `listener ${reg.patterns.join(' ')}`}`);
      } catch (e) {
        if (!conn.open) return;
        this.log('error', `ubus: re-registration failed: ${(e as Error).message}`);
      }
    }
  }

  private async unregister(reg: Reg, timeoutMs: number): Promise<void> {
    if (!this.regs.delete(reg)) return;
    const conn = this.conn;
    if (!conn || !this.ready() || !conn.proto.objectIds().includes(reg.objId)) return;
    const what = `ubus remove ${reg.kind === 'object' ? reg.entry.name : `listener ${reg.patterns.join(' ')}`}`;
    await this.requestOn(conn, what, timeoutMs, (p, now, left) => p.removeObject(reg.objId, now, left));
  }
}
