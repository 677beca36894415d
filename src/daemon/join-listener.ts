// The TCP join listener: newcomers with an invite connect here from outside
// the tunnel. Everything about the connection is bounded before any crypto:
//  - at most MAX_JOIN_CONNECTIONS at once, and MAX_JOIN_CONNECTIONS_PER_ADDRESS
//    from one address (IPv6 counted per /64), new connections rate limited
//    per address;
//  - the request's header must arrive within JOIN_HEADER_TIMEOUT_MS and the
//    whole request within JOIN_TIMEOUT_MS; when every slot is taken, the
//    oldest connection still sending its request makes room, so idle
//    connections cannot lock honest newcomers out;
//  - a refusal anyone could read (no sealed reply is possible) says only
//    JOIN_REFUSED, never the network's name or why: the reason is logged,
//    keyed by address (never address:port) and rate limited.
import type { Platform, Stream, Listener } from '../platform/types.ts';
import { buildJoinRefusal, frameJoin, parseJoinRecord } from '../core/join.ts';
import { RateLimiter } from '../core/ratelimit.ts';
import { parseIPv6 } from '../core/ip.ts';
import { readFrame } from './frames.ts';
import type { Logger } from './log.ts';

export const MAX_JOIN_CONNECTIONS = 8;
export const MAX_JOIN_CONNECTIONS_PER_ADDRESS = 2;
export const JOIN_HEADER_TIMEOUT_MS = 2000;
export const JOIN_TIMEOUT_MS = 10_000;
/** New connections per address: a few retries pass, a scanner's loop does not. */
export const JOIN_CONNECT_RATE = { ratePerSec: 0.2, burst: 6, maxEntries: 1024, slip: 0 };
/** The only refusal a client without a valid code ever reads. */
export const JOIN_REFUSED = 'the invite is not valid here';
/** Reply frame type of a plain (unsealed) refusal (core/join.ts). */
const TYPE_REFUSE = 3;

export interface JoinDecision {
  reply: Uint8Array;
  admitted: { name: string; ipv4: string; admin: boolean } | null;
  /** Why it was refused (for the log only). */
  refused: string | null;
}

export interface JoinHandler {
  /** Decides on a request (persisting an admission before resolving). */
  admit(frame: Uint8Array): Promise<JoinDecision>;
  /** The newcomer's first signed record, sent right after its admission. */
  record(bytes: Uint8Array): void;
}

export interface JoinStats {
  accepted: number;
  /** Closed at once: this address already holds its share, or opens connections too fast. */
  perAddress: number;
  rateLimited: number;
  /** Closed to make room for a newcomer while still sending their request. */
  evicted: number;
  /** Every slot busy with requests already received: closed at once. */
  busy: number;
  admitted: number;
  refused: number;
  /** Connections that ended without a decision (timeouts, bad framing, hang-ups). */
  failed: number;
}

interface Conn { s: Stream; addr: string; phase: 'request' | 'decided'; startedMs: number }

/** The address a connection counts against: the host of "host:port", IPv6 by /64, IPv4-mapped as IPv4. */
export function addressKey(remote: string): string {
  const m = /^\[?(.*?)\]?:(\d+)$/.exec(remote);
  let host = m ? m[1]! : remote;
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(host)) host = host.slice(7);
  if (!host.includes(':')) return host;
  const b = parseIPv6(host);
  if (!b) return host;
  const hex = [...b.subarray(0, 8)].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 4)}:${hex.slice(4, 8)}:${hex.slice(8, 12)}:${hex.slice(12, 16)}::/64`;
}

export class JoinListener {
  readonly stats: JoinStats = { accepted: 0, perAddress: 0, rateLimited: 0, evicted: 0, busy: 0, admitted: 0, refused: 0, failed: 0 };
  private readonly conns = new Set<Conn>();
  private readonly rate = new RateLimiter(JOIN_CONNECT_RATE);
  private listener: Listener | null = null;
  private closed = false;

  constructor(private readonly p: Platform, private readonly log: Logger, private readonly handler: JoinHandler) {}

  async listen(address: string, port: number): Promise<void> {
    this.listener = await this.p.tcp.listen(address, port, (s) => this.onConnection(s));
  }

  get port(): number { return this.listener?.port ?? 0; }
  /** Connections held now (for tests and status). */
  get open(): number { return this.conns.size; }

  close(): void {
    this.closed = true;
    this.listener?.close();
    for (const c of this.conns) c.s.close();
    this.conns.clear();
  }

  private onConnection(s: Stream): void {
    try {
      this.admitConnection(s);
    } catch (e) {
      s.close();
      this.log.limited('join-listener', 'error', `join listener: ${(e as Error).message}`);
    }
  }

  private admitConnection(s: Stream): void {
    if (this.closed) { s.close(); return; }
    const addr = addressKey(s.remote);
    const now = this.p.clock.monoMs();
    if (this.rate.check(addr, now) !== 'allow') {
      this.stats.rateLimited++;
      this.log.limited(`join-rate-${addr}`, 'warn', `join: ${addr} opens connections too fast; closing them`);
      s.close();
      return;
    }
    let mine = 0;
    for (const c of this.conns) if (c.addr === addr) mine++;
    if (mine >= MAX_JOIN_CONNECTIONS_PER_ADDRESS) {
      this.stats.perAddress++;
      this.log.limited(`join-share-${addr}`, 'warn', `join: ${addr} already has ${mine} connections open; closing the next`);
      s.close();
      return;
    }
    if (this.conns.size >= MAX_JOIN_CONNECTIONS && !this.evictOne()) {
      this.stats.busy++;
      this.log.limited('join-busy', 'warn', `join: all ${MAX_JOIN_CONNECTIONS} slots are deciding on requests; closing a connection from ${addr}`);
      s.close();
      return;
    }
    if (this.rate.size > JOIN_CONNECT_RATE.maxEntries / 2) this.rate.prune(now);
    const c: Conn = { s, addr, phase: 'request', startedMs: now };
    this.conns.add(c);
    this.stats.accepted++;
    void this.serve(c).catch((e: Error) => {
      this.stats.failed++;
      this.log.limited(`join-${addr}`, 'warn', `join from ${addr}: ${e.message}`);
    }).finally(() => {
      this.conns.delete(c);
      s.close();
    });
  }

  /** Closes the oldest connection still sending its request; false when there is none. */
  private evictOne(): boolean {
    let oldest: Conn | null = null;
    for (const c of this.conns) if (c.phase === 'request' && (!oldest || c.startedMs < oldest.startedMs)) oldest = c;
    if (!oldest) return false;
    this.conns.delete(oldest);
    this.stats.evicted++;
    this.log.limited(`join-evict-${oldest.addr}`, 'debug', `join: closed an unfinished request from ${oldest.addr} to make room`);
    oldest.s.close();
    return true;
  }

  private async serve(c: Conn): Promise<void> {
    let frame: Uint8Array;
    try {
      frame = await readFrame(this.p, c.s, JOIN_TIMEOUT_MS, { headerTimeoutMs: JOIN_HEADER_TIMEOUT_MS });
    } catch (e) {
      if (!this.conns.has(c)) return; // evicted (counted there)
      this.stats.failed++;
      this.log.limited(`join-${c.addr}`, 'debug', `join from ${c.addr}: ${(e as Error).message}`);
      return;
    }
    if (!this.conns.has(c)) return; // evicted while its last bytes were in flight
    c.phase = 'decided';
    const d = await this.handler.admit(frame);
    let reply = d.reply;
    if (d.admitted) {
      this.stats.admitted++;
      this.log.info(`admitted "${d.admitted.name}" at ${d.admitted.ipv4}${d.admitted.admin ? ' as admin' : ''} (from ${c.addr})`);
    } else {
      this.stats.refused++;
      this.log.limited(`join-refused-${c.addr}`, 'warn', `refused join from ${c.addr}: ${d.refused ?? 'no reason'}`);
      // A sealed refusal is read only by a holder of the code; a plain one by anyone.
      if (reply[1] === TYPE_REFUSE) reply = buildJoinRefusal(JOIN_REFUSED);
    }
    await c.s.write(frameJoin(reply));
    if (!d.admitted) return;
    // The newcomer sends its first record right away, so it becomes a peer now rather than after gossip.
    this.handler.record(parseJoinRecord(await readFrame(this.p, c.s, JOIN_TIMEOUT_MS)));
  }
}
