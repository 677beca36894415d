// Link RTTs measured by pings between neighbours: the pings in flight (our
// own send time: an echoed one is not trusted), the last few direct samples
// per link, and the RTT a link publishes (their minimum: scheduling delays
// only ever add). Sans I/O; NodeCore sends the pings and re-signs on changes.
//
// A link whose traffic went to a relay is measured no more, so one bad
// reading (a busy router: every sample of a round delayed) would hold the
// link on the relay. Such a link is forgotten after RTT_STALE_MS, counts as
// fast, and is measured again; when the new reading confirms the old one the
// wait doubles (up to RTT_STALE_MAX_MS), so a link that really is slow does
// not flap, and one that was only measured on a bad moment comes back soon.

import { inTurn } from './antientropy.ts';

export const MAX_PENDING_PINGS = 64;
/** A link's RTT is the minimum of this many recent samples (one per PING_INTERVAL_MS). */
export const RTT_SAMPLES = 4;
/** A link's RTT is published once this many direct samples agree (one slow pong moves nothing). */
export const RTT_MIN_SAMPLES = 2;
/** A link not measured directly for this long counts as unmeasured (fast) again, so it gets re-measured. */
export const RTT_STALE_MS = 15_000;
/** The longest wait before a link that measured slow every time is measured again. */
export const RTT_STALE_MAX_MS = 8 * 60_000;
/**
 * Pings a round (one round every PING_INTERVAL_MS) to links already measured:
 * a node with hundreds of sessions re-measures them in turn, not all every
 * round (a ping and its pong are about 200 bytes on the wire). Links not yet
 * measured get up to UNMEASURED_PINGS_PER_ROUND more, so a new set of links
 * is measured in one go and published in one record, not in several.
 */
export const PINGS_PER_ROUND = 8;
export const UNMEASURED_PINGS_PER_ROUND = 32;
/** Forgotten links remembered (their last reading and confirmations), the oldest dropped beyond it. */
export const MAX_FORGOTTEN = 1024;
/** A new reading at least this share of the one forgotten confirms it (the wait doubles). */
const CONFIRM_SHARE = 0.75;

export class LinkRtts {
  private rtt = new Map<string, number>();
  private samples = new Map<string, { samples: number[]; lastMs: number }>();
  /** Pings in flight: to whom, when, and whether the path was direct. */
  private pings = new Map<number, { id: string; sentMs: number; direct: boolean }>();
  private nonce = 1;
  /** Links forgotten by sweep: the RTT they had (until re-measured) and how often it was confirmed in a row. */
  private forgotten = new Map<string, { was: number | null; confirmed: number }>();

  /** The link's published RTT input, if measured. */
  get(id: string): number | undefined { return this.rtt.get(id); }

  /** The link's RTT, or the one it had when sweep forgot it (until measured again). */
  lastReading(id: string): number | undefined { return this.rtt.get(id) ?? this.forgotten.get(id)?.was ?? undefined; }

  /** A restarted daemon starts from the RTTs its own cached record published, so it computes the same paths. */
  restore(links: readonly { peer: string; rttMs: number }[], nowMs: number): void {
    for (const l of links) {
      if (this.rtt.has(l.peer)) continue;
      this.rtt.set(l.peer, l.rttMs);
      this.samples.set(l.peer, { samples: [], lastMs: nowMs });
    }
  }

  /**
   * Whom to ping this round: links not yet measured (a new link counts as
   * fast until it is), then PINGS_PER_ROUND of the others; each group in turn,
   * so each link is measured every ceil(n / budget) rounds or so.
   */
  pick<T>(items: readonly T[], idOf: (x: T) => string, round: number): T[] {
    const unmeasured = (x: T) => (this.samples.get(idOf(x))?.samples.length ?? 0) < RTT_MIN_SAMPLES;
    const turn = (xs: T[], budget: number) => inTurn(xs, round * budget, budget);
    return [...turn(items.filter(unmeasured), UNMEASURED_PINGS_PER_ROUND), ...turn(items.filter((x) => !unmeasured(x)), PINGS_PER_ROUND)];
  }

  /** Starts a ping round (a round that finds too many unanswered forgets them). */
  startRound(): void { if (this.pings.size > MAX_PENDING_PINGS) this.pings.clear(); }

  /** Records a ping to member `id` sent now; returns its nonce. */
  ping(id: string, direct: boolean, nowMs: number): number {
    // Below the relay and exit bits (relay-health.ts, exits.ts), so each pong finds its tracker.
    const nonce = this.nonce;
    this.nonce = this.nonce >= 0x3fffffff ? 1 : this.nonce + 1;
    this.pings.set(nonce, { id, sentMs: nowMs, direct });
    return nonce;
  }

  /**
   * A pong from `fromId`: true when it added a sample (the caller re-signs).
   * A ping that travelled through a relay measures the relay, not the link:
   * counting it would make a fresh direct link look as slow as the relay and
   * keep traffic on the relay. Until a direct ping measures it, a link counts as fast.
   */
  pong(nonce: number, fromId: string, isDirect: (id: string) => boolean, nowMs: number): boolean {
    const sent = this.pings.get(nonce);
    if (!sent || sent.id !== fromId) return false;
    this.pings.delete(nonce);
    const id = sent.id;
    if (!sent.direct || !isDirect(id)) return false;
    const samples = [...(this.samples.get(id)?.samples ?? []), Math.max(0, nowMs - sent.sentMs)].slice(-RTT_SAMPLES);
    this.samples.set(id, { samples, lastMs: nowMs });
    if (samples.length >= RTT_MIN_SAMPLES) {
      const rtt = Math.min(...samples);
      this.rtt.set(id, rtt);
      const f = this.forgotten.get(id);
      if (f && f.was !== null) {
        if (rtt >= f.was * CONFIRM_SHARE) this.forgotten.set(id, { was: null, confirmed: f.confirmed + 1 });
        else this.forgotten.delete(id);
      }
    }
    return true;
  }

  /** How long a link of ours goes unmeasured before it is measured again (RTT_STALE_MS, doubled per confirmation). */
  staleAfterMs(id: string): number {
    return Math.min(RTT_STALE_MAX_MS, RTT_STALE_MS * 2 ** (this.forgotten.get(id)?.confirmed ?? 0));
  }

  /** A link we no longer measure (traffic went to a relay) must not keep one bad value for ever. */
  sweep(nowMs: number, isDirect: (id: string) => boolean): void {
    for (const [id, r] of this.samples) {
      if (nowMs - r.lastMs <= this.staleAfterMs(id) || isDirect(id)) continue;
      const was = this.rtt.get(id);
      if (was !== undefined) {
        const confirmed = this.forgotten.get(id)?.confirmed ?? 0;
        this.forgotten.delete(id); // to the end of the map's order: the newest
        this.forgotten.set(id, { was, confirmed });
      }
      this.samples.delete(id);
      this.rtt.delete(id);
    }
    // Bounded like the samples: only links still measured, or forgotten and waiting, are kept; the oldest go first.
    for (const id of this.forgotten.keys()) { if (this.forgotten.size <= MAX_FORGOTTEN) break; this.forgotten.delete(id); }
  }
}
