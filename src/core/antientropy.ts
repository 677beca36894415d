// Anti-entropy over the record store: the digests a node sends its neighbours
// every round, and its answers to a neighbour's digest (want what is newer
// there, push what is newer here) and to a want. Pure functions of the store;
// every answer is split into messages within the gossip limits.
import { MAX_DIGEST_ENTRIES, MAX_RECORDS_PER_MESSAGE, type ControlMessage } from './gossip.ts';
import type { RecordStore } from './store.ts';

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
