// Rumours: how a record new to a node goes on. It used to go in full to four
// neighbours, so every node received every new record about four times, and
// while 160 members joined a mesh nine tenths of its control bytes were such
// copies (test/sim). Now it goes in full to RUMOUR_FANOUT neighbours and
// is announced (HAVE: its id and seq, 16 bytes) to HAVE_FANOUT more; a node
// that lacks it asks the announcer (WANT), once: the first to announce a
// record is asked, the next only when no record came within WANT_RETRY_MS.
// Anti-entropy (antientropy.ts) still finds whatever a rumour missed.
import type { Action } from './node-types.ts';
import type { NodeRecord } from './record.ts';
import { encodeControl } from './gossip.ts';
import { rumourTargets } from './antientropy.ts';

/** A new record goes in full to this many neighbours (one of our own to OWN_FANOUT), announced to HAVE_FANOUT more. */
export const RUMOUR_FANOUT = 2;
export const HAVE_FANOUT = 3;
export const OWN_FANOUT = 8;
/** An id asked of one announcer is asked of the next only after this long. */
export const WANT_RETRY_MS = 2000;
/** Ids asked for and not yet received: the oldest goes beyond this. */
export const MAX_PENDING_WANTS = 1024;

/**
 * Sends of a 'records' message `msg` to the neighbours but `except`: in full
 * to `fanout` of them; with `fresh` (the records in it that were new here),
 * a HAVE of those to HAVE_FANOUT more. The message's last bytes (a
 * signature) pick the neighbours, so each record goes its own way.
 */
export function rumourSends(msg: Uint8Array, neighbours: readonly string[], except: string | undefined, fanout: number, fresh?: readonly NodeRecord[]): Action[] {
  const salt = new DataView(msg.buffer, msg.byteOffset + msg.length - 4, 4).getUint32(0);
  const to = rumourTargets(neighbours, except, fanout + (fresh?.length ? HAVE_FANOUT : 0), salt);
  const have = fresh?.length ? encodeControl({ type: 'have', entries: fresh.map((r) => ({ id: r.id, seq: r.seq })) }) : msg;
  return to.map((ip, i): Action => ({ type: 'send', to: ip, bytes: i < fanout ? msg : have }));
}

/** The ids a node asked for and when: one WANT per record, not one per HAVE. */
export class Wants {
  private pending = new Map<string, { seq: number; atMs: number }>();

  /**
   * The ids of a HAVE to ask its sender for: newer than what we hold (`held`:
   * the seq we hold), and not asked of anyone at that seq or newer within
   * WANT_RETRY_MS. A liar's HAVE (a seq that exists nowhere) holds back the
   * honest announcers' for WANT_RETRY_MS at most; full pushes and
   * anti-entropy are not held back at all.
   */
  ask(entries: readonly { id: string; seq: number }[], held: (id: string) => number | undefined, nowMs: number): string[] {
    const out: string[] = [];
    for (const e of entries) {
      if ((held(e.id) ?? -1) >= e.seq) continue;
      const p = this.pending.get(e.id);
      if (p && p.seq >= e.seq && nowMs - p.atMs < WANT_RETRY_MS && nowMs >= p.atMs) continue;
      this.pending.delete(e.id);
      if (this.pending.size >= MAX_PENDING_WANTS) this.pending.delete(this.pending.keys().next().value!);
      this.pending.set(e.id, { seq: e.seq, atMs: nowMs });
      out.push(e.id);
    }
    return out;
  }

  get size(): number { return this.pending.size; }
}
