// Reports of the endpoint WireGuard shows for each peer ('observed' control
// messages), from which members learn their public mapping (observed.ts).
// A changed endpoint is reported at once. Every OBSERVE_REPORT_INTERVAL_MS a
// round reports again, so members' votes stay fresh: to every peer whose
// record does not publish what we see, and to OBSERVE_REFRESH_PER_ROUND of
// the others in turn. Every peer every round cost a node with hundreds of
// sessions a datagram per session every 30 s; a member with many sessions
// still hears from enough of them within OBSERVED_STALE_MS, and one with few
// is among few peers' turns (a node with at most that many peers reports to
// all of them every round, as before).
import type { WgObservation } from './node-types.ts';
import { OBSERVE_REPORT_INTERVAL_MS } from './node-types.ts';
import { inTurn } from './antientropy.ts';

export const OBSERVE_REFRESH_PER_ROUND = 16;

export interface ObserveReport { id: string; host: string; port: number }

export class ObserveReports {
  private reported = new Map<string, string>();
  private lastRoundMs = 0;
  private round = 0;

  /**
   * What to report now, from `wg show`: the member (by id) and the host and
   * port it is seen at. `publishes` says whether the member's record already
   * carries that endpoint.
   */
  due(peers: readonly WgObservation[], idOf: (wgPub: string) => string | undefined, publishes: (id: string, host: string, port: number) => boolean, nowMs: number): ObserveReport[] {
    const round = nowMs - this.lastRoundMs > OBSERVE_REPORT_INTERVAL_MS;
    if (round) { this.lastRoundMs = nowMs; this.round++; }
    const out: ObserveReport[] = [];
    const confirm: ObserveReport[] = [];
    for (const p of peers) {
      const id = p.endpoint ? idOf(p.publicKey) : undefined;
      const m = id && /^\[?([0-9a-fA-F:.]+?)\]?:(\d+)$/.exec(p.endpoint!);
      if (!id || !m) continue;
      const r = { id, host: m[1]!, port: Number(m[2]) };
      if (this.reported.get(id) !== p.endpoint) out.push(r);
      else if (round) (publishes(id, r.host, r.port) ? confirm : out).push(r);
      this.reported.set(id, p.endpoint!);
    }
    out.push(...inTurn(confirm, this.round * OBSERVE_REFRESH_PER_ROUND, OBSERVE_REFRESH_PER_ROUND));
    // Bounded by the peers: entries of members no longer peers go.
    if (this.reported.size > 2 * peers.length + 16) {
      const live = new Set(peers.map((p) => idOf(p.publicKey)));
      for (const id of [...this.reported.keys()]) if (!live.has(id)) this.reported.delete(id);
    }
    return out;
  }
}
