// The ubus client protocol as a sans-I/O state machine: bytes and requests in
// (with nowMs), frames, events and the next deadline out. No sockets, no
// timers, no clock: client.ts joins it to a Stream and the platform Clock.
//
// Rules:
// 1. ubusd speaks first. Until HELLO (whose header peer is our client id) any
//    other frame fails the connection.
// 2. Each request gets a fresh (seq, peer) key, peer being the header peer we
//    sent (0, the target object id, or 1 for the event object). DATA frames
//    with that key are collected; the STATUS with that key completes it. A
//    reply that matches nothing (late, after a timeout) is dropped.
// 3. handleTimeout(nowMs) completes requests past their deadline with
//    TIMEOUT; close() completes every open request with CONNECTION_FAILED.
// 4. An INVOKE for one of our objects is checked (object, method, argument
//    policy) and either answered at once (NOT_FOUND, METHOD_NOT_FOUND,
//    INVALID_ARGUMENT) or handed out as an 'invoke' event; completeInvoke()
//    then sends DATA (if any) and STATUS, both with OBJID, same seq and peer,
//    unless the INVOKE carried NO_REPLY.
// 5. An INVOKE for a listener object is an event: handed out, never answered.
// 6. Malformed messages are dropped and counted (a 'warning' event); a bad
//    frame header means the framing is lost and fails the connection.
import { BlobDecodeError, decodeBlobmsgTable, encodeBlobmsgTable, type BlobTable } from './blob.ts';
import {
  FrameSplitter, UBUS_MSG, UBUS_STATUS, UBUS_SYSTEM_OBJECT_EVENT, decodeMessage, encodeMessage, msgTypeName,
  type UbusAttrs, type UbusMessage,
} from './message.ts';
import {
  checkArgs, encodeSignature, type UbusArgPolicy, type UbusArgs, type UbusInvokeContext, type UbusMethod, type UbusMethods,
} from './policy.ts';
import { UbusError } from './errors.ts';

// Implementation limits.
export const MAX_PENDING_REQUESTS = 256;
export const MAX_INFLIGHT_INVOKES = 256;
/** DATA messages kept per request (a LOOKUP of everything gives one per object). */
export const MAX_REPLIES_PER_REQUEST = 4096;

export interface ListenerEntry { kind: 'listener'; onEvent(name: string, data: BlobTable): void }
export interface ServerEntry { kind: 'object'; name: string; methods: UbusMethods }
export type ObjectEntry = ListenerEntry | ServerEntry;

export type ProtocolEvent =
  | { kind: 'hello'; clientId: number }
  | { kind: 'reply'; id: number; status: number; data: UbusAttrs[] }
  | { kind: 'invoke'; id: number; method: UbusMethod; args: UbusArgs<UbusArgPolicy>; ctx: UbusInvokeContext }
  | { kind: 'event'; listener: ListenerEntry; name: string; data: BlobTable }
  | { kind: 'warning'; message: string }
  | { kind: 'failed'; reason: string };

export interface InvokeOutcome {
  status: number;
  /** Sent as DATA before the STATUS; must be a plain object. */
  data?: unknown;
}

interface Pending {
  id: number;
  key: string;
  deadlineMs: number;
  replies: UbusAttrs[];
  /** For ADD_OBJECT: what to register under the object id in the reply. */
  entry?: ObjectEntry;
}

interface Inflight { seq: number; peer: number; objId: number; noReply: boolean; what: string }

export class UbusProtocol {
  state: 'hello' | 'ready' | 'failed' | 'closed' = 'hello';
  /** Our client id, from HELLO; 0 before. */
  clientId = 0;
  readonly stats = { framesIn: 0, framesOut: 0, dropped: 0, late: 0, timeouts: 0 };

  private readonly splitter = new FrameSplitter();
  private readonly outbox: Uint8Array[] = [];
  private readonly events: ProtocolEvent[] = [];
  private readonly pending = new Map<string, Pending>();
  private readonly objects = new Map<number, ObjectEntry>();
  private readonly inflight = new Map<number, Inflight>();
  private nextSeq = 1;
  private nextId = 1;

  // ------------------------------------------------------------------ input

  receive(bytes: Uint8Array, nowMs: number): void {
    if (this.state === 'failed' || this.state === 'closed') return;
    this.splitter.push(bytes);
    for (;;) {
      let frame: Uint8Array | null;
      try {
        frame = this.splitter.next();
      } catch (e) {
        if (!(e instanceof BlobDecodeError)) throw e;
        this.fail(e.message);
        return;
      }
      if (!frame) break;
      this.stats.framesIn++;
      let msg: UbusMessage;
      try {
        msg = decodeMessage(frame);
      } catch (e) {
        if (!(e instanceof BlobDecodeError)) throw e;
        this.drop(e.message);
        continue;
      }
      this.handle(msg);
      if (this.state !== 'ready') return;
    }
    this.handleTimeout(nowMs);
  }

  private handle(msg: UbusMessage): void {
    if (this.state === 'hello') {
      if (msg.type !== UBUS_MSG.HELLO) { this.fail(`expected HELLO from ubusd, got ${msgTypeName(msg.type)}`); return; }
      this.state = 'ready';
      this.clientId = msg.peer;
      this.events.push({ kind: 'hello', clientId: msg.peer });
      return;
    }
    switch (msg.type) {
      case UBUS_MSG.DATA: case UBUS_MSG.STATUS: this.handleReply(msg); break;
      case UBUS_MSG.INVOKE: this.handleInvoke(msg); break;
      case UBUS_MSG.NOTIFY: case UBUS_MSG.UNSUBSCRIBE: break; // subscriber bookkeeping: not used
      default: this.drop(`unexpected ${msgTypeName(msg.type)} seq ${msg.seq} from ubusd`);
    }
  }

  private handleReply(msg: UbusMessage): void {
    const p = this.pending.get(key(msg.seq, msg.peer));
    if (!p) { this.stats.late++; return; }
    if (msg.type === UBUS_MSG.DATA) {
      if (p.replies.length < MAX_REPLIES_PER_REQUEST) p.replies.push(msg.attrs);
      else this.drop(`request seq ${msg.seq}: more than ${MAX_REPLIES_PER_REQUEST} DATA replies`);
      return;
    }
    const status = msg.attrs.status ?? UBUS_STATUS.INVALID_ARGUMENT; // as libubus does for a STATUS without one
    if (status === UBUS_STATUS.OK && p.entry) {
      const objId = p.replies.find((r) => r.objId !== undefined)?.objId;
      if (objId !== undefined) this.objects.set(objId, p.entry);
    }
    this.finish(p, status);
  }

  private handleInvoke(msg: UbusMessage): void {
    const a = msg.attrs;
    if (a.objId === undefined) { this.drop(`INVOKE seq ${msg.seq} without OBJID`); return; }
    const entry = this.objects.get(a.objId);
    const noReply = a.noReply === true;
    const what = `INVOKE ${entry?.kind === 'object' ? entry.name : a.objId}.${a.method ?? '?'}`;
    const answer = (status: number, why: string) => {
      if (why) this.drop(`${what} from ${msg.peer}: ${why}`);
      if (!noReply) this.sendReply({ seq: msg.seq, peer: msg.peer, objId: a.objId!, noReply, what }, { status });
    };
    if (!entry) { answer(UBUS_STATUS.NOT_FOUND, 'no such object'); return; }
    if (entry.kind === 'listener') {
      if (a.method === undefined) { this.drop(`${what}: event without a name`); return; }
      let data: BlobTable = {};
      try {
        if (a.data) data = decodeBlobmsgTable(a.data, `event ${a.method}`);
      } catch (e) {
        if (!(e instanceof BlobDecodeError)) throw e;
        this.drop(e.message);
        return;
      }
      this.events.push({ kind: 'event', listener: entry, name: a.method, data });
      return;
    }
    if (a.method === undefined) { answer(UBUS_STATUS.INVALID_ARGUMENT, 'no METHOD'); return; }
    const method = Object.hasOwn(entry.methods, a.method) ? entry.methods[a.method] : undefined;
    if (!method) { answer(UBUS_STATUS.METHOD_NOT_FOUND, ''); return; }
    const checked = checkArgs(method.args, a.data, method.unchecked);
    if (!checked.ok) { answer(checked.status, checked.reason); return; }
    if (this.inflight.size >= MAX_INFLIGHT_INVOKES) { answer(UBUS_STATUS.UNKNOWN_ERROR, `more than ${MAX_INFLIGHT_INVOKES} calls in progress`); return; }
    const id = this.nextId++;
    this.inflight.set(id, { seq: msg.seq, peer: msg.peer, objId: a.objId, noReply, what });
    const ctx: UbusInvokeContext = { object: entry.name, method: a.method, peer: msg.peer };
    if (a.user !== undefined) ctx.user = a.user;
    if (a.group !== undefined) ctx.group = a.group;
    if (checked.session !== undefined) ctx.session = checked.session;
    this.events.push({ kind: 'invoke', id, method, args: checked.args, ctx });
  }

  // --------------------------------------------------------------- requests

  /** Sends a request; returns the id its 'reply' event will carry. */
  request(type: number, peer: number, attrs: UbusAttrs, nowMs: number, timeoutMs: number, entry?: ObjectEntry): number {
    if (this.state === 'failed' || this.state === 'closed') throw new UbusError(UBUS_STATUS.CONNECTION_FAILED, `ubus ${msgTypeName(type)}: connection ${this.state}`);
    if (this.pending.size >= MAX_PENDING_REQUESTS) throw new UbusError(UBUS_STATUS.NO_MEMORY, `ubus ${msgTypeName(type)}: ${MAX_PENDING_REQUESTS} requests already in flight`);
    let seq = this.nextSeq;
    while (this.pending.has(key(seq, peer))) seq = (seq + 1) & 0xffff;
    this.nextSeq = (seq + 1) & 0xffff;
    const frame = encodeMessage({ type, seq, peer, attrs }); // throws on local misuse, before any state changes
    const p: Pending = { id: this.nextId++, key: key(seq, peer), deadlineMs: nowMs + timeoutMs, replies: [] };
    if (entry) p.entry = entry;
    this.pending.set(p.key, p);
    this.send(frame);
    return p.id;
  }

  lookup(path: string | undefined, nowMs: number, timeoutMs: number): number {
    return this.request(UBUS_MSG.LOOKUP, 0, path === undefined ? {} : { objPath: path }, nowMs, timeoutMs);
  }

  /** Calls a method; DATA is always sent (libubus servers answer INVALID_ARGUMENT without it). */
  invoke(objId: number, method: string, args: BlobTable, nowMs: number, timeoutMs: number): number {
    return this.request(UBUS_MSG.INVOKE, objId, { objId, method, data: encodeBlobmsgTable(args) }, nowMs, timeoutMs);
  }

  ping(nowMs: number, timeoutMs: number): number {
    return this.request(UBUS_MSG.PING, 0, {}, nowMs, timeoutMs);
  }

  /** ADD_OBJECT; `entry.kind === 'listener'` registers an anonymous object. */
  addObject(entry: ObjectEntry, nowMs: number, timeoutMs: number): number {
    const attrs: UbusAttrs = entry.kind === 'object' ? { objPath: entry.name, signature: encodeSignature(entry.methods) } : {};
    return this.request(UBUS_MSG.ADD_OBJECT, 0, attrs, nowMs, timeoutMs, entry);
  }

  /** REMOVE_OBJECT; the object stops answering at once. */
  removeObject(objId: number, nowMs: number, timeoutMs: number): number {
    this.objects.delete(objId);
    return this.request(UBUS_MSG.REMOVE_OBJECT, 0, { objId }, nowMs, timeoutMs);
  }

  /** Asks ubusd to deliver events matching pattern ("foo", "foo.*") to a listener object. */
  registerEvent(objId: number, pattern: string, nowMs: number, timeoutMs: number): number {
    // ubusd's policy reads "object" as INT32: ids above 2^31 go as their signed value.
    return this.invoke(UBUS_SYSTEM_OBJECT_EVENT, 'register', { object: objId | 0, pattern }, nowMs, timeoutMs);
  }

  sendEvent(id: string, data: BlobTable, nowMs: number, timeoutMs: number): number {
    return this.invoke(UBUS_SYSTEM_OBJECT_EVENT, 'send', { id, data }, nowMs, timeoutMs);
  }

  /** Answers an 'invoke' event. Unknown ids (already answered, connection replaced) are ignored. */
  completeInvoke(id: number, outcome: InvokeOutcome): void {
    const inv = this.inflight.get(id);
    if (!inv) return;
    this.inflight.delete(id);
    if (this.state !== 'ready' || inv.noReply) return;
    this.sendReply(inv, outcome);
  }

  private sendReply(inv: Inflight, outcome: InvokeOutcome): void {
    let status = outcome.status;
    const { data } = outcome;
    if (data !== undefined && status === UBUS_STATUS.OK) {
      try {
        if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new TypeError(`handler result is ${Array.isArray(data) ? 'an array' : typeof data}, expected an object`);
        this.send(encodeMessage({ type: UBUS_MSG.DATA, seq: inv.seq, peer: inv.peer, attrs: { objId: inv.objId, data: encodeBlobmsgTable(data as BlobTable) } }));
      } catch (e) {
        if (!(e instanceof TypeError || e instanceof RangeError)) throw e;
        this.events.push({ kind: 'warning', message: `${inv.what}: cannot send result: ${e.message}` });
        status = UBUS_STATUS.UNKNOWN_ERROR;
      }
    }
    this.send(encodeMessage({ type: UBUS_MSG.STATUS, seq: inv.seq, peer: inv.peer, attrs: { status, objId: inv.objId } }));
  }

  // ------------------------------------------------------------------- time

  /** The earliest request deadline, or null when nothing is waiting. */
  pollTimeout(): number | null {
    let t: number | null = null;
    for (const p of this.pending.values()) if (t === null || p.deadlineMs < t) t = p.deadlineMs;
    return t;
  }

  handleTimeout(nowMs: number): void {
    for (const p of [...this.pending.values()]) {
      if (p.deadlineMs <= nowMs) { this.stats.timeouts++; this.finish(p, UBUS_STATUS.TIMEOUT); }
    }
  }

  /** The connection is gone: every open request completes with CONNECTION_FAILED. */
  close(): void {
    if (this.state !== 'failed') this.state = 'closed';
    for (const p of [...this.pending.values()]) this.finish(p, UBUS_STATUS.CONNECTION_FAILED);
    this.inflight.clear();
    this.objects.clear();
    this.outbox.length = 0;
  }

  // ----------------------------------------------------------------- output

  pollTransmit(): Uint8Array | null { return this.outbox.shift() ?? null; }
  pollEvent(): ProtocolEvent | null { return this.events.shift() ?? null; }

  /** The object ids this connection currently answers for. */
  objectIds(): number[] { return [...this.objects.keys()]; }

  private send(frame: Uint8Array): void {
    this.stats.framesOut++;
    this.outbox.push(frame);
  }

  private finish(p: Pending, status: number): void {
    this.pending.delete(p.key);
    this.events.push({ kind: 'reply', id: p.id, status, data: p.replies });
  }

  private drop(message: string): void {
    this.stats.dropped++;
    this.events.push({ kind: 'warning', message });
  }

  private fail(reason: string): void {
    this.state = 'failed';
    this.events.push({ kind: 'failed', reason });
  }
}

function key(seq: number, peer: number): string {
  return `${seq}:${peer}`;
}
