// Link RTTs as the node publishes them: the smallest of the last few direct
// ping samples (scheduling delays only ever add), published once enough agree,
// forgotten when a link has not been measured directly for a while.

/** A link's RTT is the minimum of this many recent samples (one per ping interval). */
export const RTT_SAMPLES = 4;
/** A link's RTT is published once this many direct samples agree (one slow pong moves nothing). */
export const RTT_MIN_SAMPLES = 2;
/** A link not measured directly for this long counts as unmeasured (fast) again, so it gets re-measured. */
export const RTT_STALE_MS = 60_000;

export class LinkRtts {
  private rtt = new Map<string, number>();
  private samples = new Map<string, { samples: number[]; lastMs: number }>();

  /** The link's RTT, or undefined while unmeasured. */
  get(id: string): number | undefined { return this.rtt.get(id); }

  /**
   * RTTs the node published before (its own cached record: a restarted
   * daemon computes the same paths instead of moving traffic about), for
   * links it has not measured yet.
   */
  restore(links: { peer: string; rttMs: number }[], nowMs: number): void {
    for (const l of links) {
      if (this.rtt.has(l.peer)) continue;
      this.rtt.set(l.peer, l.rttMs);
      this.samples.set(l.peer, { samples: [], lastMs: nowMs });
    }
  }

  /** A direct ping's round trip (only those count: one through a relay measures the relay). */
  sample(id: string, rttMs: number, nowMs: number): void {
    const samples = [...(this.samples.get(id)?.samples ?? []), rttMs].slice(-RTT_SAMPLES);
    this.samples.set(id, { samples, lastMs: nowMs });
    if (samples.length >= RTT_MIN_SAMPLES) this.rtt.set(id, Math.min(...samples));
  }

  /** A link we no longer measure (traffic went to a relay) must not keep one bad value for ever. */
  sweep(nowMs: number, direct: (id: string) => boolean): void {
    for (const [id, r] of this.samples) {
      if (nowMs - r.lastMs > RTT_STALE_MS && !direct(id)) { this.samples.delete(id); this.rtt.delete(id); }
    }
  }
}
