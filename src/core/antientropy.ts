// Anti-entropy over the record store: the digests a node sends its neighbours
// every round, and its answers to a neighbour's digest (want what is newer
// there, push what is newer here) and to a want. Pure functions of the store;
// every answer is split into messages within the gossip limits.
import { MAX_DIGEST_ENTRIES, MAX_RECORDS_PER_MESSAGE, type ControlMessage } from './gossip.ts';
import type { RecordStore } from './store.ts';

/**
 * Neighbours that get a node's digest (and revocation summary) in one round:
 * GOSSIP_FANOUT of them, in turn, so each hears from it every
 * ceil(neighbours / GOSSIP_FANOUT) rounds. A digest is answered both ways (want
 * and push), so a few exchanges a round keep the stores equal; a digest to every
 * neighbour every round cost each node neighbours × records × 16 bytes a round.
 */
export const GOSSIP_FANOUT = 3;

export function gossipTargets(neighbours: readonly string[], round: number, fanout = GOSSIP_FANOUT): string[] {
  if (neighbours.length <= fanout) return [...neighbours];
  const start = (round * fanout) % neighbours.length;
  return Array.from({ length: fanout }, (_, i) => neighbours[(start + i) % neighbours.length]!);
}

/** What the store holds, as digest messages. */
export function digestsOf(store: RecordStore): ControlMessage[] {
  const entries = [...store.values()].map((r) => ({ id: r.id, seq: r.seq }));
  const out: ControlMessage[] = [];
  for (let i = 0; i < entries.length; i += MAX_DIGEST_ENTRIES) out.push({ type: 'digest', entries: entries.slice(i, i + MAX_DIGEST_ENTRIES) });
  return out;
}

function recordMessages(records: Uint8Array[]): ControlMessage[] {
  const out: ControlMessage[] = [];
  for (let i = 0; i < records.length; i += MAX_RECORDS_PER_MESSAGE) out.push({ type: 'records', records: records.slice(i, i + MAX_RECORDS_PER_MESSAGE) });
  return out;
}

/** The answer to a neighbour's digest: a want for what it has newer, the records we have newer. */
export function answerDigest(store: RecordStore, entries: { id: string; seq: number }[]): ControlMessage[] {
  const theirs = new Map(entries.map((e) => [e.id, e.seq]));
  const want = entries.filter((e) => (store.get(e.id)?.seq ?? -1) < e.seq).map((e) => e.id);
  const push: Uint8Array[] = [];
  for (const r of store.values()) {
    const s = theirs.get(r.id);
    if (s !== undefined && s < r.seq) push.push(r.bytes);
  }
  return [...(want.length ? [{ type: 'want' as const, ids: want.slice(0, 255) }] : []), ...recordMessages(push)];
}

/** The answer to a want: the records we hold of those asked for, each once (a repeated id is no amplifier). */
export function answerWant(store: RecordStore, ids: string[]): ControlMessage[] {
  return recordMessages([...new Set(ids)].map((id) => store.get(id)?.bytes).filter((b): b is Uint8Array => !!b));
}
