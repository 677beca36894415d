// The DNS server: UDP and TCP listeners on each listen address, feeding the
// pure resolver with the current index, with per-source rate limiting,
// forwarding of out-of-zone names when enabled, and counters. TCP follows
// RFC 7766: 2-byte length framing, several queries per connection, an idle
// timeout and a cap on connections.
import type { Platform, UdpSocket, Listener, Stream, LogLevel, Timer } from '../platform/types.ts';
import { resolve, truncatedReply, errorReply } from './resolver.ts';
import type { ResolveOptions } from './resolver.ts';
import { RateLimiter, DEFAULT_RATE_LIMIT } from '../core/ratelimit.ts';
import type { RateLimitConfig } from '../core/ratelimit.ts';
import { Forwarder } from './forward.ts';
import { parseHostPort, formatHostPort } from './addr.ts';
import { RCODE } from './records.ts';
import type { DnsIndex } from './zone.ts';

export type DnsLog = (level: LogLevel, msg: string) => void;

export interface DnsServerOptions {
  /** "addr:port" to listen on (UDP and TCP); port 0 picks one port for both. */
  listen: string[];
  /** The current index; called per query, so swapping it is the reload. */
  getIndex: () => DnsIndex;
  /** "addr[:port]" resolvers for out-of-zone names (used when forward is on). */
  upstreams?: string[];
  forward?: boolean;
  log: DnsLog;
  /** Cap on answer records per response (default DEFAULT_MAX_ANSWERS). */
  maxAnswers?: number;
  /** Per-source limit for non-loopback clients; null turns it off. */
  rateLimit?: RateLimitConfig | null;
}

export interface DnsStats {
  udpQueries: number;
  tcpQueries: number;
  responses: number;
  malformed: number;
  /** Queries that got no response (dropped, rate limited without slip, failed sends). */
  dropped: number;
  rateLimited: number;
  forwarded: number;
  forwardFailed: number;
  tcpConnections: number;
  tcpRejected: number;
}

export interface DnsServer {
  /** The bound "addr:port" list (ports resolved). */
  readonly listen: string[];
  readonly stats: DnsStats;
  close(): void;
}

export const DEFAULT_MAX_ANSWERS = 64;
export const MAX_TCP_CONNECTIONS = 64;
export const TCP_IDLE_TIMEOUT_MS = 10_000;
export const MAX_TCP_QUERIES_PER_CONNECTION = 10_000;
export const MAX_LISTEN_ADDRESSES = 16;
const PRUNE_INTERVAL_MS = 10_000;
const LOG_INTERVAL_MS = 10_000;
const PORT_ZERO_BIND_TRIES = 5;

/** Loopback clients (dnsmasq forwarding on the same box) are never rate limited. */
function isLoopback(a: string): boolean {
  return a.startsWith('127.') || a === '::1' || a.startsWith('::ffff:127.');
}

export async function startDnsServer(platform: Platform, opts: DnsServerOptions): Promise<DnsServer> {
  if (opts.listen.length > MAX_LISTEN_ADDRESSES) throw new RangeError(`dns: ${opts.listen.length} listen addresses (max ${MAX_LISTEN_ADDRESSES})`);
  const { clock } = platform;
  const stats: DnsStats = { udpQueries: 0, tcpQueries: 0, responses: 0, malformed: 0, dropped: 0, rateLimited: 0, forwarded: 0, forwardFailed: 0, tcpConnections: 0, tcpRejected: 0 };
  const maxAnswers = opts.maxAnswers ?? DEFAULT_MAX_ANSWERS;
  const udpOpts: ResolveOptions = { transport: 'udp', maxAnswers, forward: !!opts.forward };
  const tcpOpts: ResolveOptions = { transport: 'tcp', maxAnswers, forward: !!opts.forward };
  const limiter = opts.rateLimit === null ? null : new RateLimiter(opts.rateLimit ?? DEFAULT_RATE_LIMIT);
  const forwarder = opts.forward && opts.upstreams?.length ? await Forwarder.open(platform, opts.upstreams.map((u) => parseHostPort(u, 53))) : null;
  const udps: UdpSocket[] = [];
  const listeners: Listener[] = [];
  const streams = new Set<Stream>();
  const timers: Timer[] = [];
  const bound: string[] = [];
  let malformedSinceLog = 0;
  let lastLogMs = -Infinity;

  const noteMalformed = (from: string) => {
    stats.malformed++;
    malformedSinceLog++;
    const now = clock.monoMs();
    if (now - lastLogMs < LOG_INTERVAL_MS) return;
    opts.log('debug', `dns: ${malformedSinceLog} malformed queries (last from ${from})`);
    malformedSinceLog = 0;
    lastLogMs = now;
  };

  /** Forwards when there is an upstream; SERVFAIL otherwise or when it fails. */
  const forwardQuery = async (query: Uint8Array): Promise<Uint8Array | null> => {
    stats.forwarded++;
    const reply = forwarder ? await forwarder.forward(query) : null;
    if (reply) return reply;
    stats.forwardFailed++;
    return errorReply(query, RCODE.SERVFAIL);
  };

  const onSendError = () => { stats.dropped++; };
  const onUdp = (sock: UdpSocket) => (data: Uint8Array, from: { address: string; port: number }) => {
    stats.udpQueries++;
    if (limiter && !isLoopback(from.address)) {
      const d = limiter.check(from.address, clock.monoMs());
      if (d !== 'allow') {
        stats.rateLimited++;
        const r = d === 'slip' ? truncatedReply(data) : null;
        if (r) sock.send(r, from).catch(onSendError); else stats.dropped++;
        return;
      }
    }
    const res = resolve(data, opts.getIndex(), udpOpts);
    if (res.malformed) noteMalformed(from.address);
    if (res.response) {
      stats.responses++;
      sock.send(res.response, from).catch(onSendError);
    } else if (res.forward) {
      void forwardQuery(data).then((r) => {
        if (!r) { stats.dropped++; return; }
        stats.responses++;
        return sock.send(r, from);
      }).catch(onSendError);
    } else stats.dropped++;
  };

  const serveTcp = async (s: Stream) => {
    if (streams.size >= MAX_TCP_CONNECTIONS) { stats.tcpRejected++; s.close(); return; }
    streams.add(s);
    stats.tcpConnections++;
    let idle = clock.after(TCP_IDLE_TIMEOUT_MS, () => s.close());
    let buf: Uint8Array = new Uint8Array(0);
    let served = 0;
    try {
      for (;;) {
        const chunk = await s.read();
        if (!chunk) break;
        idle.cancel();
        idle = clock.after(TCP_IDLE_TIMEOUT_MS, () => s.close());
        if (buf.length === 0) buf = chunk;
        else { const n = new Uint8Array(buf.length + chunk.length); n.set(buf); n.set(chunk, buf.length); buf = n; }
        while (buf.length >= 2) {
          const len = (buf[0]! << 8) | buf[1]!;
          if (buf.length < 2 + len) break;
          const query = buf.subarray(2, 2 + len);
          buf = buf.subarray(2 + len);
          stats.tcpQueries++;
          const res = resolve(query, opts.getIndex(), tcpOpts);
          if (res.malformed) noteMalformed(s.remote);
          const reply = res.response ?? (res.forward ? await forwardQuery(query) : null);
          if (!reply) { stats.dropped++; continue; }
          const framed = new Uint8Array(2 + reply.length);
          framed[0] = reply.length >> 8; framed[1] = reply.length & 255; framed.set(reply, 2);
          await s.write(framed);
          stats.responses++;
          if (++served >= MAX_TCP_QUERIES_PER_CONNECTION) return;
        }
      }
    } catch {
      // The client went away mid-write; nothing to answer.
    } finally {
      idle.cancel();
      streams.delete(s);
      s.close();
    }
  };

  const bindOne = async (address: string, port: number): Promise<number> => {
    for (let tries = 0; ; tries++) {
      const udp = await platform.udp.bind(address, port);
      try {
        const tcp = await platform.tcp.listen(address, udp.local.port, (s) => { void serveTcp(s); });
        udp.onMessage(onUdp(udp));
        udps.push(udp);
        listeners.push(tcp);
        return udp.local.port;
      } catch (e) {
        udp.close();
        if (port !== 0 || tries + 1 >= PORT_ZERO_BIND_TRIES) throw new Error(`dns: cannot listen on TCP ${formatHostPort(address, udp.local.port)}: ${(e as Error).message}`);
      }
    }
  };

  const close = () => {
    for (const t of timers) t.cancel();
    for (const u of udps) u.close();
    for (const l of listeners) l.close();
    for (const s of streams) s.close();
    forwarder?.close();
  };

  try {
    for (const l of opts.listen) {
      const { address, port } = parseHostPort(l, 53);
      bound.push(formatHostPort(address, await bindOne(address, port)));
    }
  } catch (e) {
    close();
    throw e;
  }
  if (limiter) timers.push(clock.every(PRUNE_INTERVAL_MS, () => limiter.prune(clock.monoMs())));
  opts.log('info', `dns: listening on ${bound.join(', ')}${forwarder ? `, forwarding to ${opts.upstreams!.join(', ')}` : ''}`);
  return { listen: bound, stats, close };
}
