// End-to-end sessions that both ends set up at the same moment (the path
// between them just became relayed): each end's first handshake initiation
// may reach the other before it knows us, and WireGuard then waits 5 s
// (REKEY_TIMEOUT) before it tries again — a new relayed path stayed dark that
// long (seen: a LAN host's pings over a fresh relayed path lost). A peer with
// no handshake NUDGE_AFTER_MS after it was added (checked each tick) is removed, so the next apply
// adds it afresh and its keepalive dials at once; by then the far end knows us.
import type { WgState } from '../wg/dump.ts';
import type { WgApplier } from '../wg/apply.ts';

export const NUDGE_AFTER_MS = 500;
export const MAX_NUDGES = 2;

export class E2eNudger {
  private peers = new Map<string, { sinceMs: number; nudges: number }>();

  /** The end-to-end peers as just applied: new ones are watched from now, gone ones forgotten. */
  track(publicKeys: string[], nowMs: number): void {
    const keep = new Set(publicKeys);
    for (const k of this.peers.keys()) if (!keep.has(k)) this.peers.delete(k);
    for (const k of publicKeys) if (!this.peers.has(k)) this.peers.set(k, { sinceMs: nowMs, nudges: 0 });
  }

  /** Whether any peer is still waiting for its first handshake (worth reading the interface for). */
  get watching(): boolean { return this.peers.size > 0 && [...this.peers.values()].some((p) => p.nudges < MAX_NUDGES); }

  /** Peers to remove now; peers with a session are no longer watched. */
  due(state: WgState, nowMs: number): string[] {
    const out: string[] = [];
    for (const p of state.peers) {
      const w = this.peers.get(p.publicKey);
      if (!w || w.nudges >= MAX_NUDGES) continue;
      if (p.latestHandshakeSec > 0) { w.nudges = MAX_NUDGES; continue; }
      if (nowMs - w.sinceMs < NUDGE_AFTER_MS) continue;
      w.nudges++;
      w.sinceMs = nowMs;
      out.push(p.publicKey);
    }
    return out;
  }

  /** Reads the interface and removes the peers that are due; true when it removed any (apply again). Never throws. */
  async nudge(applier: WgApplier, ifname: string, nowMs: number): Promise<boolean> {
    try {
      const due = this.due(await applier.state(ifname), nowMs);
      if (due.length) await applier.removePeers(ifname, due);
      return due.length > 0;
    } catch {
      return false; // the next tick reads it again; a missing interface is recreated by the mesh
    }
  }
}
