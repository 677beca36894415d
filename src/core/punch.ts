// NAT traversal between two members that are both behind NAT, by a designated
// opener (the smaller node id). Plain simultaneous dialling fails through two
// Linux NATs: whichever side's first packet reaches the far NAT before that NAT
// has sent anything leaves an inbound conntrack entry there, the far side's own
// packet then clashes with it, masquerade picks another source port, and the
// first NAT drops it. So the order is made deterministic:
//
//   opener                         relay                        responder
//     | TTL rule: our handshake initiations to R's public endpoint
//     |   leave with a TTL that outlives our NAT and dies before R's
//     | dial R (initiations die in the core; our NAT learns the mapping)
//     | once an initiation has left:
//     |--- PUNCH(attempt, our public endpoint) --->|--------------->|
//     |    (again every PUNCH_RESIGNAL_MS until the session is up)  | dial the opener there:
//     |<============= handshake initiation through our mapping ====| R's NAT learns its
//     |============== response (full TTL) through R's mapping ====>| mapping first
//     | session up: remove the TTL rule (rekeys are initiations)
//
// The TTL rule stays for the whole attempt and touches only initiations, so
// no packet of ours can reach R's NAT before R has dialled out (WireGuard
// retransmits an initiation every 5 s; a rule removed early let those through
// and poisoned R's NAT for as long as they continued). PUNCH carries our public
// endpoint, so R does not depend on how fresh its copy of our record is, and it
// is repeated, so one lost datagram or a relay path that is not yet up on R's
// side does not fail the attempt.
//
// State per peer, here as plain data: the core decides, the daemon applies the
// TTL rule and tells the core when the opening is done.
import type { NodeRecord, Endpoint } from './record.ts';
import { encodeControl } from './gossip.ts';
import { formatIPv4, isGlobalIPv6 } from './ip.ts';

/** Give a punch this long to produce a live session before returning to the relay. */
export const PUNCH_TIMEOUT_MS = 20_000;
/**
 * Wait after a failed attempt, by failures so far (the last one repeats). The
 * responder dials for up to PUNCH_QUIET_MS after the opener's last PUNCH, and
 * an unanswered entry stays in a NAT for the kernel's UDP conntrack timeout
 * (30 s) after its last packet; both must be over before the next attempt, or
 * the opener's NAT maps it to another port (a carrier NAT in front of the
 * opener's home router still held the responder's entry from attempt 1 while
 * attempt 2 passed it: test/netns/cgnat.sh).
 */
export const PUNCH_BACKOFF_MS = [0, 45_000, 120_000, 600_000];
/** TTL of the opener's initiations, by attempt: 2 (one router between the NATs), then 3, 4. */
export const PUNCH_TTLS = [2, 3, 4];
/** The opener repeats PUNCH this often until the session is up. */
export const PUNCH_RESIGNAL_MS = 1000;
/**
 * The responder stops dialling this long after the last PUNCH while no
 * handshake came through (the opener gave up): past WireGuard's 5 s
 * retransmit, so one lost handshake response is retried before it stops.
 */
export const PUNCH_QUIET_MS = 8000;

export interface PunchState {
  /**
   * 'opening': the opener installs its TTL rule; 'open': this side dials the
   * other's public endpoint; 'idle': neither (waiting for the next attempt).
   */
  phase: 'idle' | 'opening' | 'open';
  /** Whether this side is the opener. */
  opener: boolean;
  /** Where to dial the other side. */
  endpoint: Endpoint;
  /** When the attempt started. */
  startedMs: number;
  /** The last sign of life while open (attempt start, PUNCH received, edge seen); the timeout counts from here. */
  sinceMs: number;
  /** Failed attempts since the last success (sets the backoff and the TTL). */
  failures: number;
  /** When the last attempt started, or ended when it failed (the backoff counts from here). */
  lastAttemptMs: number;
  /** When PUNCH was last sent (opener), 0 before the first. */
  signalledMs: number;
  /** Whether the opener's TTL rule is (or is being) installed. */
  ruleUp: boolean;
}

export function publicEndpoint(r: NodeRecord): Endpoint | null {
  return r.endpoints.find((e) => e.kind === 'public') ?? null;
}

/**
 * The member's first global IPv6 address on an interface. Two members that
 * both have one dial each other there: no NAT in between, and each side's
 * own initiation opens its stateful firewall for the other's.
 */
export function globalV6(r: NodeRecord): Endpoint | null {
  return r.endpoints.find((e) => e.kind === 'lan' && isGlobalIPv6(e.host)) ?? null;
}

/** Whether the member has a configured endpoint: others dial it, no punch needed. */
export const configured = (r: NodeRecord) => r.endpoints.some((e) => e.kind === 'configured');

/**
 * Two members need a punch when both sit behind NAT (each has an observed
 * public endpoint and none configured) behind different public addresses.
 */
export function needsPunch(me: NodeRecord, them: NodeRecord): boolean {
  const a = publicEndpoint(me);
  const b = publicEndpoint(them);
  if (!a || !b || a.host === b.host || (globalV6(me) && globalV6(them))) return false;
  return !configured(me) && !configured(them);
}

/** Whether the responder answers a PUNCH from `them` that names `at` as their public endpoint. */
export function acceptsPunch(me: NodeRecord, them: NodeRecord, at: Endpoint): boolean {
  const mine = publicEndpoint(me);
  return mine !== null && mine.host !== at.host && !configured(me) && !configured(them);
}

export function isOpener(myId: string, theirId: string): boolean {
  return myId < theirId;
}

/** Whether the opener should start an attempt now. */
export function dueForAttempt(st: PunchState | undefined, nowMs: number): boolean {
  if (!st) return true;
  if (st.phase !== 'idle') return false;
  const wait = PUNCH_BACKOFF_MS[Math.min(st.failures, PUNCH_BACKOFF_MS.length - 1)]!;
  return nowMs - st.lastAttemptMs >= wait;
}

export function ttlFor(failures: number): number {
  return PUNCH_TTLS[failures % PUNCH_TTLS.length]!;
}

/** What the punch machine emits; a subset of NodeCore's actions. */
export type PunchAction =
  | { type: 'send'; to: string; bytes: Uint8Array }
  | { type: 'punch-open'; peer: string; host: string; port: number; ttl: number }
  | { type: 'punch-close'; peer: string }
  | { type: 'netmap' };

/** What the punch machine reads of the node's state. */
export interface PunchView {
  readonly selfId: string;
  readonly selfRecord: NodeRecord;
  record(id: string): NodeRecord | undefined;
  records(): Iterable<NodeRecord>;
  /** Both records list a live link between them. */
  mutualLink(a: NodeRecord, b: NodeRecord): boolean;
  /** WireGuard reports a handshake with this member since the given time. */
  handshakeSince(r: NodeRecord, sinceMs: number): boolean;
  /** Our path to this member goes through a relay. */
  relayed(id: string): boolean;
}

/** The punch state of every member this node punches toward, or answers. */
export class Punches {
  private states = new Map<string, PunchState>();

  /** Members to dial at a punched endpoint, for the netmap. */
  dialTargets(): Map<string, Endpoint> {
    return new Map([...this.states].filter(([, st]) => st.phase === 'open').map(([id, st]) => [id, st.endpoint]));
  }

  get all(): ReadonlyMap<string, Readonly<PunchState>> { return this.states; }

  /** The responder's side: a member that PUNCHes us is dialled at the endpoint it names. */
  onPunch(v: PunchView, fromId: string | undefined, at: Endpoint, nowMs: number): PunchAction[] {
    const them = fromId ? v.record(fromId) : undefined;
    if (!them || isOpener(v.selfId, them.id) || !acceptsPunch(v.selfRecord, them, at)) return [];
    const st = this.states.get(them.id);
    const same = st?.phase === 'open' && st.endpoint.host === at.host && st.endpoint.port === at.port;
    this.states.set(them.id, {
      phase: 'open', opener: false, endpoint: at, sinceMs: nowMs, startedMs: same ? st!.startedMs : nowMs,
      failures: 0, lastAttemptMs: nowMs, signalledMs: 0, ruleUp: false,
    });
    return same ? [] : [{ type: 'netmap' }];
  }

  /** Starts, refreshes, re-signals and expires punches. */
  tick(v: PunchView, nowMs: number): PunchAction[] {
    const out: PunchAction[] = [];
    const me = v.selfRecord;
    for (const [id, st] of this.states) {
      const r = v.record(id);
      if (!r) {
        this.states.delete(id);
        out.push({ type: 'netmap' });
        if (st.ruleUp) out.push({ type: 'punch-close', peer: id });
        continue;
      }
      const edge = v.mutualLink(me, r);
      const up = v.handshakeSince(r, st.startedMs);
      if (st.phase === 'open') {
        if (edge) { st.sinceMs = nowMs; st.failures = 0; }
        if (st.opener && up && st.ruleUp) { st.ruleUp = false; out.push({ type: 'punch-close', peer: id }); }
        const quiet = !st.opener && !up ? PUNCH_QUIET_MS : PUNCH_TIMEOUT_MS;
        if (!edge && nowMs - st.sinceMs > quiet) this.fail(id, st, nowMs, out);
        else if (st.opener && !up && st.signalledMs > 0 && nowMs - st.signalledMs >= PUNCH_RESIGNAL_MS) out.push(...this.signal(v, id, nowMs));
      } else if (st.phase === 'opening' && nowMs - st.sinceMs > PUNCH_TIMEOUT_MS) {
        this.fail(id, st, nowMs, out);
      }
    }
    for (const r of v.records()) {
      if (r.id === v.selfId) continue;
      const st = this.states.get(r.id);
      if (v.mutualLink(me, r) || !needsPunch(me, r) || !isOpener(v.selfId, r.id) || !dueForAttempt(st, nowMs)) continue;
      // The other side is told through the overlay, so it must be reachable (relayed) first.
      if (!v.relayed(r.id)) continue;
      const ep = publicEndpoint(r)!;
      const failures = st?.failures ?? 0;
      this.states.set(r.id, {
        phase: 'opening', opener: true, endpoint: ep, sinceMs: nowMs, startedMs: nowMs,
        failures, lastAttemptMs: nowMs, signalledMs: 0, ruleUp: true,
      });
      out.push({ type: 'punch-open', peer: r.id, host: ep.host, port: ep.port, ttl: ttlFor(failures) });
    }
    return out;
  }

  private fail(id: string, st: PunchState, nowMs: number, out: PunchAction[]): void {
    st.phase = 'idle';
    st.failures++;
    st.lastAttemptMs = nowMs;
    st.signalledMs = 0;
    out.push({ type: 'netmap' });
    if (st.ruleUp) {
      st.ruleUp = false;
      // After the netmap change: the daemon applies it before removing the rule, so the peer goes first.
      out.push({ type: 'punch-close', peer: id });
    }
  }

  /** The daemon has installed the TTL rule: dial the peer now (the netmap adds it at its public endpoint). */
  opened(peer: string, nowMs: number): PunchAction[] {
    const st = this.states.get(peer);
    if (!st || st.phase !== 'opening') return [];
    st.phase = 'open';
    st.sinceMs = nowMs;
    return [{ type: 'netmap' }];
  }

  /** Our first initiation has left: tell the other side to dial back (repeated from tick until the session is up). */
  signal(v: PunchView, peer: string, nowMs: number): PunchAction[] {
    const st = this.states.get(peer);
    const r = v.record(peer);
    const mine = publicEndpoint(v.selfRecord);
    if (!st || !st.opener || st.phase !== 'open' || !r || !mine) return [];
    st.signalledMs = nowMs;
    const bytes = encodeControl({ type: 'punch', attempt: Math.min(255, st.failures + 1), host: mine.host, port: mine.port });
    return [{ type: 'send', to: formatIPv4(r.chain[0]!.ipv4), bytes }];
  }
}
