// Our public endpoint as members report it (OBSERVED), by vote. Each member's
// latest report counts while it is fresh; a public endpoint replaces the one we
// publish only when more members currently report it than confirm ours, so one
// member that lies about our address cannot move a mapping another member
// confirms (nor make us re-sign our record at its pace). A local view (a
// member on our LAN sees our LAN or configured address) clears the public
// endpoint only when no member across the NAT has confirmed one for a while.
// Configured endpoints are not decided here: they are always published.
import type { Endpoint } from './record.ts';

/** Reporters remembered at most (members, so the record cap bounds them anyway). */
export const MAX_OBSERVED_REPORTERS = 1024;

interface Vote { ep: Endpoint | null; atMs: number }

const key = (e: Endpoint) => `${e.host}|${e.port}`;

export class ObservedVotes {
  private votes = new Map<string, Vote>();
  private value: Endpoint | null = null;

  constructor(private readonly staleMs: number) {}

  /** The public endpoint we publish, or null. */
  get current(): Endpoint | null { return this.value; }

  /**
   * A member's report: `ep` is the public endpoint it sees, null for a local
   * view. Returns whether the published endpoint changed.
   */
  report(reporter: string, ep: Endpoint | null, nowMs: number): boolean {
    this.votes.delete(reporter); // re-inserted last: the map stays in report order
    this.votes.set(reporter, { ep, atMs: nowMs });
    if (this.votes.size > MAX_OBSERVED_REPORTERS) this.votes.delete(this.votes.keys().next().value as string);
    const tally = new Map<string, { ep: Endpoint; n: number }>();
    let local = false;
    for (const [id, v] of this.votes) {
      if (nowMs - v.atMs >= this.staleMs) { this.votes.delete(id); continue; }
      if (!v.ep) { local = true; continue; }
      const t = tally.get(key(v.ep));
      // Re-inserting moves the entry last, so among equal counts the latest report wins.
      tally.delete(key(v.ep));
      tally.set(key(v.ep), { ep: v.ep, n: (t?.n ?? 0) + 1 });
    }
    let next = this.value;
    if (tally.size === 0) {
      if (local) next = null;
    } else {
      const held = this.value ? tally.get(key(this.value))?.n ?? 0 : 0;
      let best: { ep: Endpoint; n: number } | null = null;
      for (const t of tally.values()) if (!best || t.n >= best.n) best = t;
      if (best && best.n > held) next = best.ep;
    }
    const changed = (next ? key(next) : '') !== (this.value ? key(this.value) : '');
    this.value = next;
    return changed;
  }
}
