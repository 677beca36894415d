// Reports of the endpoint WireGuard shows for each peer ('observed' control
// messages), from which members learn their public mapping (observed.ts): a
// changed endpoint is reported at once, every endpoint again each
// OBSERVE_REPORT_INTERVAL_MS, so a member's votes stay fresh.
import type { WgObservation } from './node-types.ts';
import { OBSERVE_REPORT_INTERVAL_MS } from './node-types.ts';

export class ObserveReports {
  private reported = new Map<string, string>();
  private lastRoundMs = 0;

  /** What to report now, from `wg show`: the member (by id) and the host and port it is seen at. */
  due(peers: readonly WgObservation[], idOf: (wgPub: string) => string | undefined, nowMs: number): { id: string; host: string; port: number }[] {
    const round = nowMs - this.lastRoundMs > OBSERVE_REPORT_INTERVAL_MS;
    if (round) this.lastRoundMs = nowMs;
    const out: { id: string; host: string; port: number }[] = [];
    for (const p of peers) {
      const id = p.endpoint ? idOf(p.publicKey) : undefined;
      if (!id || (!round && this.reported.get(id) === p.endpoint)) continue;
      const m = /^\[?([0-9a-fA-F:.]+?)\]?:(\d+)$/.exec(p.endpoint!);
      if (!m) continue;
      out.push({ id, host: m[1]!, port: Number(m[2]) });
      this.reported.set(id, p.endpoint!);
    }
    // Bounded by the peers: entries of members no longer peers go.
    if (this.reported.size > 2 * peers.length + 16) {
      const live = new Set(peers.map((p) => idOf(p.publicKey)));
      for (const id of [...this.reported.keys()]) if (!live.has(id)) this.reported.delete(id);
    }
    return out;
  }
}
