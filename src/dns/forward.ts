// Forwarding of out-of-zone queries to upstream resolvers over UDP: a fresh
// random ID per query, one attempt per upstream with a timeout each, and a
// reply accepted only from the upstream asked, with our ID and our question.
import type { Platform, UdpAddr, UdpSocket, Timer } from '../platform/types.ts';
import { questionEnd } from './resolver.ts';

/** Time to wait for one upstream before trying the next. */
export const FORWARD_TIMEOUT_MS = 2000;
/** Most forwarded queries in flight; beyond it the query fails at once. */
export const MAX_PENDING_FORWARDS = 512;
export const MAX_UPSTREAMS = 4;

interface Pending {
  origId: number;
  /** Question bytes as sent, to check the reply against. */
  question: Uint8Array;
  out: Uint8Array;
  to: UdpAddr;
  attempt: number;
  timer: Timer | null;
  done: (r: Uint8Array | null) => void;
}

function sameQuestion(a: Uint8Array, reply: Uint8Array): boolean {
  if (reply.length < 12 + a.length) return false;
  for (let i = 0; i < a.length; i++) {
    let x = a[i]!, y = reply[12 + i]!;
    if (x >= 65 && x <= 90) x += 32;
    if (y >= 65 && y <= 90) y += 32;
    if (x !== y) return false;
  }
  return true;
}

export class Forwarder {
  private readonly pending = new Map<number, Pending>();
  private constructor(private readonly platform: Platform, private readonly upstreams: UdpAddr[],
    private readonly sockets: { v4: UdpSocket | null; v6: UdpSocket | null }) {
    for (const s of [sockets.v4, sockets.v6]) s?.onMessage((d, from) => this.onReply(d, from));
  }

  /** Binds the sockets needed for these upstreams (at most MAX_UPSTREAMS are used). */
  static async open(platform: Platform, upstreams: UdpAddr[]): Promise<Forwarder> {
    const ups = upstreams.slice(0, MAX_UPSTREAMS);
    const v4 = ups.some((u) => !u.address.includes(':')) ? await platform.udp.bind('0.0.0.0', 0) : null;
    const v6 = ups.some((u) => u.address.includes(':')) ? await platform.udp.bind('::', 0) : null;
    return new Forwarder(platform, ups, { v4, v6 });
  }

  get inFlight(): number { return this.pending.size; }

  /** Resolves with the upstream's reply (client's ID restored), or null when none answered in time. */
  forward(query: Uint8Array): Promise<Uint8Array | null> {
    const qEnd = questionEnd(query);
    if (qEnd < 0 || this.upstreams.length === 0 || this.pending.size >= MAX_PENDING_FORWARDS) return Promise.resolve(null);
    let id = -1;
    for (let i = 0; i < 8 && id < 0; i++) {
      const r = this.platform.random(2);
      const c = (r[0]! << 8) | r[1]!;
      if (!this.pending.has(c)) id = c;
    }
    if (id < 0) return Promise.resolve(null);
    const out = query.slice();
    out[0] = id >> 8; out[1] = id & 255;
    return new Promise((done) => {
      const p: Pending = { origId: (query[0]! << 8) | query[1]!, question: query.slice(12, qEnd), out, to: this.upstreams[0]!, attempt: 0, timer: null, done };
      this.pending.set(id, p);
      this.send(id, p);
    });
  }

  private send(id: number, p: Pending): void {
    p.to = this.upstreams[p.attempt]!;
    const sock = p.to.address.includes(':') ? this.sockets.v6 : this.sockets.v4;
    sock?.send(p.out, p.to).catch(() => { /* counted as a timeout */ });
    p.timer = this.platform.clock.after(FORWARD_TIMEOUT_MS, () => {
      if (++p.attempt < this.upstreams.length) { this.send(id, p); return; }
      this.pending.delete(id);
      p.done(null);
    });
  }

  private onReply(data: Uint8Array, from: UdpAddr): void {
    if (data.length < 12 || (data[2]! & 0x80) === 0) return;
    const id = (data[0]! << 8) | data[1]!;
    const p = this.pending.get(id);
    if (!p || from.port !== p.to.port || from.address !== p.to.address || !sameQuestion(p.question, data)) return;
    this.pending.delete(id);
    p.timer?.cancel();
    const reply = data.slice();
    reply[0] = p.origId >> 8; reply[1] = p.origId & 255;
    p.done(reply);
  }

  close(): void {
    for (const p of this.pending.values()) { p.timer?.cancel(); p.done(null); }
    this.pending.clear();
    this.sockets.v4?.close();
    this.sockets.v6?.close();
  }
}
