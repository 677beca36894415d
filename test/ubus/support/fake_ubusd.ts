/// <reference types="node" />
// An in-memory stand-in for ubusd (HELLO, LOOKUP, ADD/REMOVE_OBJECT, INVOKE
// forwarding with peer rewriting, events, PING) and the in-memory unix socket
// platform the client connects through. It follows the behaviour recorded in
// the shared fixtures directory (shared/fixtures/ubus); the real-ubusd test (ubusd.test.ts) checks the
// client against the real thing.
import type { Stream, Platform } from '../../../src/platform/types.ts';
import {
  FrameSplitter, UBUS_MSG, UBUS_STATUS, decodeBlobmsgTable, decodeMessage, encodeBlobmsgTable, encodeMessage,
  type UbusAttrs, type UbusMessage,
} from '../../../src/ubus/index.ts';
import { Rng } from './random.ts';

/** Two connected in-memory streams. */
export function streamPair(): [Stream, Stream] {
  const mk = () => ({ chunks: [] as Uint8Array[], ended: false, waiter: null as ((c: Uint8Array | null) => void) | null });
  const a = mk();
  const b = mk();
  const deliver = (s: ReturnType<typeof mk>) => {
    if (!s.waiter) return;
    const w = s.waiter;
    if (s.chunks.length) { s.waiter = null; w(s.chunks.shift()!); } else if (s.ended) { s.waiter = null; w(null); }
  };
  const side = (me: ReturnType<typeof mk>, other: ReturnType<typeof mk>): Stream => ({
    remote: 'unix',
    read: () => new Promise((resolve) => { me.waiter = resolve; deliver(me); }),
    write: async (data) => {
      if (me.ended || other.ended) throw new Error('write to closed stream');
      other.chunks.push(data.slice());
      deliver(other);
    },
    close: () => { me.ended = true; other.ended = true; deliver(me); deliver(other); },
  });
  return [side(a, b), side(b, a)];
}

interface Client { id: number; stream: Stream; rng: Rng }
interface Obj { id: number; owner: Client; path?: string; typeId?: number; signature?: Uint8Array; patterns: string[] }

export class FakeUbusd {
  private clients = new Map<number, Client>();
  private objects = new Map<number, Obj>();
  private nextId = 0x10000;
  private eventSeq = 1;
  running = true;
  /** Every frame the daemon received, for assertions. */
  readonly received: { from: number; msg: UbusMessage }[] = [];

  constructor(private readonly seed = 1) {}

  /** The unix-socket side of a Platform whose connect() reaches this daemon at `path`. */
  platform(path: string, clock: Platform['clock']): Pick<Platform, 'unix' | 'clock'> {
    return {
      clock,
      unix: {
        listen: () => Promise.reject(new Error('not supported')),
        connect: async (p) => {
          if (p !== path || !this.running) throw new Error(`connect ${p}: ENOENT`);
          const [mine, theirs] = streamPair();
          this.accept(mine);
          return theirs;
        },
      },
    };
  }

  /** Drops every connection and all state, like a ubusd restart; `down` keeps refusing connections. */
  restart(down = false): void {
    for (const c of this.clients.values()) c.stream.close();
    this.clients.clear();
    this.objects.clear();
    this.running = !down;
  }

  objectByPath(path: string): Obj | undefined {
    return [...this.objects.values()].find((o) => o.path === path);
  }

  private accept(stream: Stream): void {
    const id = this.nextId++;
    const client: Client = { id, stream, rng: new Rng(this.seed * 7919 + id) };
    this.clients.set(id, client);
    this.send(client, { type: UBUS_MSG.HELLO, seq: 0, peer: id, attrs: {} });
    void this.readLoop(client);
  }

  private async readLoop(c: Client): Promise<void> {
    const splitter = new FrameSplitter();
    for (;;) {
      const chunk = await c.stream.read();
      if (chunk === null) break;
      splitter.push(chunk);
      for (let f = splitter.next(); f; f = splitter.next()) {
        const msg = decodeMessage(f);
        this.received.push({ from: c.id, msg });
        this.handle(c, msg);
      }
    }
    this.clients.delete(c.id);
    for (const o of [...this.objects.values()]) if (o.owner === c) this.objects.delete(o.id);
  }

  /** Writes a frame, sometimes split in two chunks, to exercise the client's splitter. */
  private send(c: Client, msg: UbusMessage): void {
    const frame = encodeMessage(msg);
    const cut = c.rng.next() < 0.3 ? 1 + c.rng.int(frame.length - 1) : frame.length;
    void c.stream.write(frame.subarray(0, cut)).catch(() => {});
    if (cut < frame.length) void c.stream.write(frame.subarray(cut)).catch(() => {});
  }

  private status(c: Client, req: UbusMessage, status: number): void {
    this.send(c, { type: UBUS_MSG.STATUS, seq: req.seq, peer: req.peer, attrs: { status } });
  }

  private handle(c: Client, m: UbusMessage): void {
    const a = m.attrs;
    switch (m.type) {
      case UBUS_MSG.PING:
        this.send(c, { ...m, type: UBUS_MSG.DATA });
        return this.status(c, m, 0);
      case UBUS_MSG.LOOKUP: {
        const path = a.objPath;
        const hits = [...this.objects.values()].filter((o) => o.path !== undefined && (path === undefined
          || (path.endsWith('*') ? o.path.startsWith(path.slice(0, -1)) : o.path === path)));
        for (const o of hits) {
          const attrs: UbusAttrs = { objPath: o.path!, objId: o.id, objType: o.typeId!, signature: o.signature! };
          this.send(c, { type: UBUS_MSG.DATA, seq: m.seq, peer: m.peer, attrs });
        }
        return this.status(c, m, path !== undefined && hits.length === 0 ? UBUS_STATUS.NOT_FOUND : 0);
      }
      case UBUS_MSG.ADD_OBJECT: {
        if (a.objPath !== undefined && this.objectByPath(a.objPath)) return this.status(c, m, UBUS_STATUS.INVALID_ARGUMENT);
        const o: Obj = { id: this.nextId++, owner: c, patterns: [] };
        if (a.objPath !== undefined) { o.path = a.objPath; o.typeId = this.nextId++; o.signature = a.signature ?? new Uint8Array(0); }
        this.objects.set(o.id, o);
        this.send(c, { type: UBUS_MSG.DATA, seq: m.seq, peer: m.peer, attrs: o.typeId === undefined ? { objId: o.id } : { objId: o.id, objType: o.typeId } });
        return this.status(c, m, 0);
      }
      case UBUS_MSG.REMOVE_OBJECT: {
        const o = a.objId === undefined ? undefined : this.objects.get(a.objId);
        if (!o || o.owner !== c) return this.status(c, m, UBUS_STATUS.NOT_FOUND);
        this.objects.delete(o.id);
        return this.status(c, m, 0);
      }
      case UBUS_MSG.INVOKE: return this.invoke(c, m);
      case UBUS_MSG.DATA: case UBUS_MSG.STATUS: {
        const o = a.objId === undefined ? undefined : this.objects.get(a.objId);
        const to = this.clients.get(m.peer);
        if (!o || o.owner !== c || !to) return; // ubusd drops it silently
        return this.send(to, { ...m, peer: o.id });
      }
      default: return this.status(c, m, UBUS_STATUS.INVALID_COMMAND);
    }
  }

  private invoke(c: Client, m: UbusMessage): void {
    const a = m.attrs;
    if (a.objId === undefined || a.method === undefined) return this.status(c, m, UBUS_STATUS.INVALID_ARGUMENT);
    if (a.objId === 1) {
      const args = decodeBlobmsgTable(a.data ?? new Uint8Array(0));
      if (a.method === 'register') {
        const o = this.objects.get((args.object as number) >>> 0);
        if (!o || typeof args.pattern !== 'string') return this.status(c, m, UBUS_STATUS.INVALID_ARGUMENT);
        o.patterns.push(args.pattern);
        return this.status(c, m, 0);
      }
      if (a.method === 'send') {
        const id = args.id;
        if (typeof id !== 'string' || typeof args.data !== 'object' || args.data === null || Array.isArray(args.data)) return this.status(c, m, UBUS_STATUS.INVALID_ARGUMENT);
        if (id.startsWith('ubus.')) return this.status(c, m, UBUS_STATUS.PERMISSION_DENIED);
        const data = encodeBlobmsgTable(args.data as Record<string, never>);
        for (const o of this.objects.values()) {
          const match = o.patterns.some((p) => (p.endsWith('*') ? id.startsWith(p.slice(0, -1)) : p === id));
          if (match) this.send(o.owner, { type: UBUS_MSG.INVOKE, seq: this.eventSeq++ & 0xffff, peer: 0, attrs: { objId: o.id, method: id, data } });
        }
        return this.status(c, m, 0);
      }
      return this.status(c, m, UBUS_STATUS.METHOD_NOT_FOUND);
    }
    const o = this.objects.get(a.objId);
    if (!o) return this.status(c, m, UBUS_STATUS.NOT_FOUND);
    const attrs: UbusAttrs = { objId: o.id, method: a.method, user: 'root', group: 'root' };
    if (a.data !== undefined) attrs.data = a.data;
    if (a.noReply !== undefined) attrs.noReply = a.noReply;
    this.send(o.owner, { type: UBUS_MSG.INVOKE, seq: m.seq, peer: c.id, attrs });
  }
}

/** A timer that can be awaited in tests, bounded. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `cond` every 5 ms until true; throws after `timeoutMs`. */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 2000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(5);
  }
}

