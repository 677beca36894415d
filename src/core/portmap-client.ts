// Asking the home router for a mapping of the WireGuard port, without I/O:
// replies and the time in, datagrams to the gateway and mapping changes out,
// and the next deadline (quinn's shape). The daemon (daemon/portmap.ts) owns
// the socket, the timer and the gateway's address.
//
// Rules:
// - NAT-PMP first (the most routers speak it), then PCP; each request is
//   retransmitted after 250 ms, doubling, 4 times (RFC 6886 §3.1 asks for up
//   to 9: a router on the LAN answers within milliseconds or not at all).
// - A mapping is renewed at half its lifetime with the protocol that granted
//   it, asking for the same external port; a renewal that gets no answer is
//   retried with backoff until the mapping expires, then it is lost.
// - A gateway that answers nothing, refuses or hands out a private external
//   address (a second NAT beyond it) is asked again after 1 min, then every
//   10 min: one `unavailable` event per round, never a stream of them.
// - Replies that do not decode, belong to no request or carry another nonce
//   are counted and dropped; nothing a reply holds can throw out of here.
import {
  decodeReply, encodePcpMapRequest, encodePmpAddressRequest, encodePmpMapRequest, isAdvertisableIPv4, resultText,
  type PortmapProtocol, type PortmapReply,
} from './portmap.ts';

export const PORTMAP_LIFETIME_SEC = 7200;
export const PORTMAP_FIRST_RTO_MS = 250;
export const PORTMAP_TRIES = 4;
/** Waits after a round that found no mapping: 1 min, then 10 min. */
export const PORTMAP_UNAVAILABLE_RETRY_MS = [60_000, 600_000];
/** Waits between renewals that got no answer (never past the mapping's expiry). */
export const PORTMAP_RENEW_RETRY_MS = 30_000;
const PROTOCOLS: PortmapProtocol[] = ['nat-pmp', 'pcp'];

export interface PortMapping {
  protocol: PortmapProtocol;
  external: string;
  externalPort: number;
  lifetimeSec: number;
  expiresAtMs: number;
}

export type PortmapEvent =
  | { type: 'send'; bytes: Uint8Array }
  | { type: 'mapped'; mapping: PortMapping }
  | { type: 'lost'; reason: string }
  | { type: 'unavailable'; reason: string };

export interface PortmapClientOptions {
  /** The WireGuard listen port. */
  internalPort: number;
  /** Our own IPv4 address on the gateway's LAN (PCP carries it). */
  client: string;
  /** 12 random bytes that tie PCP replies to this client (RFC 6887 §11.1). */
  nonce: Uint8Array;
  lifetimeSec?: number;
}

interface Attempt { protocol: number; tries: number; deadlineMs: number; address: string | null; renewal: boolean }

export class PortmapClient {
  mapping: PortMapping | null = null;
  /** Why the last round found no mapping (null while one is held or none was tried). */
  reason: string | null = null;
  /** Replies dropped: malformed, unasked for, or another client's. */
  ignored = 0;
  private attempt: Attempt | null = null;
  /** A NAT-PMP round's map reply, held until its address reply comes. */
  private pendingMap: { port: number; lifetimeSec: number } | null = null;
  private waitUntilMs: number | null = null;
  private failedRounds = 0;
  private renewAtMs = 0;
  private readonly lifetimeSec: number;

  constructor(private readonly o: PortmapClientOptions) {
    this.lifetimeSec = o.lifetimeSec ?? PORTMAP_LIFETIME_SEC;
  }

  /** Between rounds: no request out and no mapping held (the gateway may be looked up again). */
  get idle(): boolean { return !this.attempt && !this.mapping; }

  /** Starts the first round now. */
  start(nowMs: number): PortmapEvent[] { return this.begin(0, false, nowMs); }

  /** The next time poll() has something to do. */
  nextDeadlineMs(): number | null {
    if (this.attempt) return this.attempt.deadlineMs;
    if (this.mapping) return Math.min(this.renewAtMs, this.mapping.expiresAtMs);
    return this.waitUntilMs;
  }

  /** Retransmissions, protocol fallback, renewal and expiry, as their deadlines pass. */
  poll(nowMs: number): PortmapEvent[] {
    const out: PortmapEvent[] = [];
    if (this.mapping && nowMs >= this.mapping.expiresAtMs) {
      this.mapping = null;
      this.attempt = null;
      out.push({ type: 'lost', reason: 'the mapping expired and the gateway did not renew it' }, ...this.begin(0, false, nowMs));
      return out;
    }
    const a = this.attempt;
    if (a && nowMs >= a.deadlineMs) {
      if (a.tries < PORTMAP_TRIES) return this.send(a, nowMs);
      if (a.renewal) {
        this.attempt = null;
        this.renewAtMs = Math.min(nowMs + PORTMAP_RENEW_RETRY_MS, this.mapping!.expiresAtMs);
        return [];
      }
      if (a.protocol + 1 < PROTOCOLS.length) return this.begin(a.protocol + 1, false, nowMs);
      return this.fail('the gateway answers neither NAT-PMP nor PCP', nowMs);
    }
    if (!a && this.mapping && nowMs >= this.renewAtMs) return this.begin(PROTOCOLS.indexOf(this.mapping.protocol), true, nowMs);
    if (!a && !this.mapping && this.waitUntilMs !== null && nowMs >= this.waitUntilMs) return this.begin(0, false, nowMs);
    return out;
  }

  /** A datagram from the gateway's port-mapping port. Never throws. */
  handleReply(bytes: Uint8Array, nowMs: number): PortmapEvent[] {
    let r: PortmapReply;
    try {
      r = decodeReply(bytes);
    } catch (e) { // DecodeError by contract; anything else is counted alike: a reply never ends the caller
      this.ignored++;
      return [];
    }
    const a = this.attempt;
    if (!a || PROTOCOLS[a.protocol] !== r.protocol) { this.ignored++; return []; }
    if (r.op === 'error') return this.refused(a, r.protocol, r.result, nowMs);
    if (r.op === 'address') { a.address = r.external; return this.complete(a, null, nowMs); }
    if (r.internalPort !== this.o.internalPort) { this.ignored++; return []; }
    if (r.protocol === 'pcp' && !sameBytes(r.nonce, this.o.nonce)) { this.ignored++; return []; }
    if (r.result !== 0) return this.refused(a, r.protocol, r.result, nowMs);
    if (r.lifetimeSec === 0 || r.externalPort === 0) return this.fail(`the gateway granted an empty mapping (${r.protocol})`, nowMs);
    if (r.protocol === 'pcp') a.address = r.external;
    return this.complete(a, { port: r.externalPort, lifetimeSec: r.lifetimeSec }, nowMs);
  }

  /** Requests that delete the mapping held (lifetime 0), to send once on stop. */
  release(): Uint8Array[] {
    const m = this.mapping;
    this.attempt = null;
    this.waitUntilMs = null;
    if (!m) return [];
    this.mapping = null;
    if (m.protocol === 'nat-pmp') return [encodePmpMapRequest(this.o.internalPort, 0, 0)];
    return [encodePcpMapRequest({ client: this.o.client, nonce: this.o.nonce, internalPort: this.o.internalPort, externalPort: m.externalPort, external: m.external, lifetimeSec: 0 })];
  }

  private begin(protocol: number, renewal: boolean, nowMs: number): PortmapEvent[] {
    this.waitUntilMs = null;
    this.pendingMap = null;
    return this.send(this.attempt = { protocol, tries: 0, deadlineMs: nowMs, address: null, renewal }, nowMs);
  }

  private send(a: Attempt, nowMs: number): PortmapEvent[] {
    a.deadlineMs = nowMs + PORTMAP_FIRST_RTO_MS * 2 ** a.tries;
    a.tries++;
    const m = this.mapping;
    if (PROTOCOLS[a.protocol] === 'nat-pmp') {
      const map = encodePmpMapRequest(this.o.internalPort, m?.externalPort ?? this.o.internalPort, this.lifetimeSec);
      return [...(a.address === null ? [{ type: 'send' as const, bytes: encodePmpAddressRequest() }] : []), ...(this.pendingMap ? [] : [{ type: 'send' as const, bytes: map }])];
    }
    return [{ type: 'send', bytes: encodePcpMapRequest({
      client: this.o.client, nonce: this.o.nonce, internalPort: this.o.internalPort, externalPort: m?.externalPort ?? this.o.internalPort,
      external: m?.external ?? '0.0.0.0', lifetimeSec: this.lifetimeSec,
    }) }];
  }

  /** NAT-PMP needs both replies (address and map); PCP's one reply carries both. */
  private complete(a: Attempt, map: { port: number; lifetimeSec: number } | null, nowMs: number): PortmapEvent[] {
    if (map) this.pendingMap = map;
    const got = this.pendingMap;
    if (!got || a.address === null) return [];
    this.attempt = null;
    this.pendingMap = null;
    if (!isAdvertisableIPv4(a.address)) {
      const held = this.mapping;
      this.mapping = { protocol: PROTOCOLS[a.protocol]!, external: a.address, externalPort: got.port, lifetimeSec: got.lifetimeSec, expiresAtMs: nowMs };
      const del = this.release().map((bytes) => ({ type: 'send' as const, bytes }));
      return [...del, ...(held ? [{ type: 'lost' as const, reason: 'the external address became private' }] : []),
        ...this.fail(`the gateway's external address ${a.address} is private (another NAT beyond it)`, nowMs)];
    }
    const before = this.mapping;
    this.mapping = { protocol: PROTOCOLS[a.protocol]!, external: a.address, externalPort: got.port, lifetimeSec: got.lifetimeSec, expiresAtMs: nowMs + got.lifetimeSec * 1000 };
    this.renewAtMs = nowMs + got.lifetimeSec * 500;
    this.reason = null;
    this.failedRounds = 0;
    const same = before && before.external === this.mapping.external && before.externalPort === this.mapping.externalPort && before.protocol === this.mapping.protocol;
    return same ? [] : [{ type: 'mapped', mapping: { ...this.mapping } }];
  }

  private refused(a: Attempt, protocol: PortmapProtocol, result: number, nowMs: number): PortmapEvent[] {
    // Unsupported version or opcode: the next protocol may be spoken (not while renewing a held mapping).
    const unsupported = protocol === 'pcp' ? result === 1 || result === 4 : result === 1 || result === 5;
    if (!a.renewal && unsupported && a.protocol + 1 < PROTOCOLS.length) return this.begin(a.protocol + 1, false, nowMs);
    const why = `the gateway refused the mapping (${protocol}: ${resultText(protocol, result)})`;
    if (!a.renewal) return this.fail(why, nowMs);
    const held = this.mapping;
    this.mapping = null;
    return [{ type: 'lost', reason: why }, ...(held ? this.fail(why, nowMs) : [])];
  }

  private fail(reason: string, nowMs: number): PortmapEvent[] {
    this.attempt = null;
    this.pendingMap = null;
    this.reason = reason;
    this.waitUntilMs = nowMs + PORTMAP_UNAVAILABLE_RETRY_MS[Math.min(this.failedRounds, PORTMAP_UNAVAILABLE_RETRY_MS.length - 1)]!;
    this.failedRounds++;
    return [{ type: 'unavailable', reason }];
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
