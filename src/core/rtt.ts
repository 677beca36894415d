// Link RTTs measured by pings between neighbours: the pings in flight (our
// own send time: an echoed one is not trusted), the last few direct samples
// per link, and the RTT a link publishes (their minimum: scheduling delays
// only ever add). Sans I/O; NodeCore sends the pings and re-signs on changes.

export const MAX_PENDING_PINGS = 64;
/** A link's RTT is the minimum of this many recent samples (one per PING_INTERVAL_MS). */
export const RTT_SAMPLES = 4;
/** A link's RTT is published once this many direct samples agree (one slow pong moves nothing). */
export const RTT_MIN_SAMPLES = 2;
/** A link not measured directly for this long counts as unmeasured (fast) again, so it gets re-measured. */
export const RTT_STALE_MS = 60_000;

export class LinkRtts {
  private rtt = new Map<string, number>();
  private samples = new Map<string, { samples: number[]; lastMs: number }>();
  /** Pings in flight: to whom, when, and whether the path was direct. */
  private pings = new Map<number, { id: string; sentMs: number; direct: boolean }>();
  private nonce = 1;

  /** The link's published RTT input, if measured. */
  get(id: string): number | undefined { return this.rtt.get(id); }

  /** A restarted daemon starts from the RTTs its own cached record published, so it computes the same paths. */
  restore(links: readonly { peer: string; rttMs: number }[], nowMs: number): void {
    for (const l of links) {
      if (this.rtt.has(l.peer)) continue;
      this.rtt.set(l.peer, l.rttMs);
      this.samples.set(l.peer, { samples: [], lastMs: nowMs });
    }
  }

  /** Starts a ping round (a round that finds too many unanswered forgets them). */
  startRound(): void { if (this.pings.size > MAX_PENDING_PINGS) this.pings.clear(); }

  /** Records a ping to member `id` sent now; returns its nonce. */
  ping(id: string, direct: boolean, nowMs: number): number {
    const nonce = this.nonce++ >>> 0;
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
    if (samples.length >= RTT_MIN_SAMPLES) this.rtt.set(id, Math.min(...samples));
    return true;
  }

  /** A link we no longer measure (traffic went to a relay) must not keep one bad value for ever. */
  sweep(nowMs: number, isDirect: (id: string) => boolean): void {
    for (const [id, r] of this.samples) {
      if (nowMs - r.lastMs > RTT_STALE_MS && !isDirect(id)) { this.samples.delete(id); this.rtt.delete(id); }
    }
  }
}
