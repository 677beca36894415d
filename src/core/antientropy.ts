// Anti-entropy over the record store, in three steps that cost little when
// nothing differs (the common case in a quiet mesh):
//   SUMMARY  every round, to GOSSIP_FANOUT neighbours in turn: the number of
//            records held and a hash of their (id, seq), 22 bytes whatever the
//            mesh's size (a full digest was 16 bytes a record: 16 KB a round
//            at 1000 members);
//   BUCKETS  the answer when the sums differ: a hash per bucket of node ids;
//   BDIGEST  the answer to that: every (id, seq) held in the buckets that
//            differ, answered like a digest (want what is newer there, push
//            what is newer here or missing there).
// New records travel by rumour (rumourTargets); this finds what a rumour missed.
// Pure functions of the store; every answer is split into messages within the
// gossip limits, and pushes and wants are bounded per answer (the rest comes
// in later rounds). The old full DIGEST is still answered.
import { MAX_DIGEST_ENTRIES, MAX_RECORDS_PER_MESSAGE, SUMMARY_BUCKETS, type ControlMessage } from './gossip.ts';
import type { RecordStore } from './store.ts';
import type { NodeRecord } from './record.ts';

/**
 * Neighbours that get a node's digest (and revocation summary) in one round:
 * GOSSIP_FANOUT of them, in turn, so each hears from it every
 * ceil(neighbours / GOSSIP_FANOUT) rounds. A digest is answered both ways (want
 * and push), so a few exchanges a round keep the stores equal; a digest to every
 * neighbour every round cost each node neighbours × records × 16 bytes a round.
 */
export const GOSSIP_FANOUT = 3;

export function gossipTargets(neighbours: readonly string[], round: number, fanout = GOSSIP_FANOUT): string[] {
  return inTurn(neighbours, round * fanout, fanout);
}

/**
 * `count` of `items` taken in turn from position `start` (wrapping), or all of
 * them, in order, when there are no more than `count`: how gossip targets,
 * rumour targets, pinged links and observed-endpoint refreshes are chosen.
 */
export function inTurn<T>(items: readonly T[], start: number, count: number): T[] {
  if (items.length <= count) return [...items];
  const s = (start >>> 0) % items.length;
  return Array.from({ length: count }, (_, i) => items[(s + i) % items.length]!);
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

/** Records pushed, and ids asked for, in one answer to a BDIGEST: a store far behind catches up over a few rounds, not in one burst. */
export const MAX_PUSH_PER_ANSWER = 16;
export const MAX_WANT_PER_ANSWER = 32;
/** Records sent for one WANT at most (an older node asks for up to 255; it asks again next round). */
export const MAX_WANT_ANSWERED = 64;

/** Murmur3's finaliser: a 32-bit mix. */
function fmix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const entryHashes = new WeakMap<NodeRecord, [number, number]>();

/**
 * A 64-bit hash of (id, seq), as two 32-bit halves; cached per record. Not
 * cryptographic: a member that makes its own entry collide only keeps its own
 * record from being repaired, and rumours still carry it.
 */
export function entryHash(id: string, seq: number): [number, number] {
  const a = parseInt(id.slice(0, 8), 16) >>> 0, b = parseInt(id.slice(8, 16), 16) >>> 0;
  const lo = seq % 2 ** 32 >>> 0, hi = Math.floor(seq / 2 ** 32) >>> 0;
  const h1 = fmix(a ^ fmix(lo ^ 0x9e3779b9));
  const h2 = fmix(b ^ fmix(hi ^ h1 ^ 0x7f4a7c15));
  return [h1, h2];
}

function hashOf(r: NodeRecord): [number, number] {
  let h = entryHashes.get(r);
  if (!h) { h = entryHash(r.id, r.seq); entryHashes.set(r, h); }
  return h;
}

/** The bucket of a node id: its first 6 bits. */
export function bucketOf(id: string): number { return parseInt(id.slice(0, 2), 16) >> 2; }

/** The records held, summed: their count and the XOR of their entry hashes (8 bytes, big-endian). */
export function summaryOf(store: { values(): Iterable<NodeRecord> }): { count: number; hash: Uint8Array } {
  let x = 0, y = 0, count = 0;
  for (const r of store.values()) { const [a, b] = hashOf(r); x ^= a; y ^= b; count++; }
  const hash = new Uint8Array(8);
  const v = new DataView(hash.buffer);
  v.setUint32(0, x >>> 0);
  v.setUint32(4, y >>> 0);
  return { count, hash };
}

/** One hash per bucket: the XOR of its records' entry hashes, with their count mixed in. */
export function bucketHashes(store: RecordStore): number[] {
  const h = new Array<number>(SUMMARY_BUCKETS).fill(0);
  const n = new Array<number>(SUMMARY_BUCKETS).fill(0);
  for (const r of store.values()) { const k = bucketOf(r.id); h[k] = (h[k]! ^ hashOf(r)[0]) >>> 0; n[k]!++; }
  return h.map((x, k) => (n[k] ? fmix(x ^ n[k]!) : 0));
}

/** The answer to a neighbour's SUMMARY: our bucket hashes when its records sum differs from ours, else nothing. */
export function answerSummary(store: RecordStore, m: { count: number; hash: Uint8Array }): ControlMessage[] {
  const mine = summaryOf(store);
  if (mine.count === m.count && mine.hash.every((b, i) => b === m.hash[i])) return [];
  return [{ type: 'buckets', hashes: bucketHashes(store) }];
}

/** The answer to a neighbour's BUCKETS: a BDIGEST of our records in every bucket whose hash differs, split by whole buckets. */
export function answerBuckets(store: RecordStore, theirs: number[]): ControlMessage[] {
  const mine = bucketHashes(store);
  const byBucket = new Map<number, { id: string; seq: number }[]>();
  for (let k = 0; k < SUMMARY_BUCKETS; k++) if (mine[k] !== theirs[k]) byBucket.set(k, []);
  for (const r of store.values()) byBucket.get(bucketOf(r.id))?.push({ id: r.id, seq: r.seq });
  const out: ControlMessage[] = [];
  let mask = new Uint8Array(SUMMARY_BUCKETS / 8);
  let entries: { id: string; seq: number }[] = [];
  for (const [k, es] of byBucket) {
    // A bucket is sent whole or not at all (the receiver reads a missing entry as "not held"); 1024 records cannot fill one message.
    if (es.length > MAX_DIGEST_ENTRIES) continue;
    if (entries.length + es.length > MAX_DIGEST_ENTRIES) { out.push({ type: 'bdigest', mask, entries }); mask = new Uint8Array(SUMMARY_BUCKETS / 8); entries = []; }
    mask[k >> 3]! |= 1 << (k & 7);
    entries.push(...es);
  }
  if (mask.some((b) => b)) out.push({ type: 'bdigest', mask, entries });
  return out;
}

/** The answer to a BDIGEST: a want for what is newer there or missing here, and the records newer here or missing there (both bounded). */
export function answerBDigest(store: RecordStore, mask: Uint8Array, entries: { id: string; seq: number }[]): ControlMessage[] {
  const inMask = (id: string) => { const k = bucketOf(id); return (mask[k >> 3]! & (1 << (k & 7))) !== 0; };
  const theirs = new Map<string, number>();
  for (const e of entries) if (inMask(e.id)) theirs.set(e.id, e.seq);
  const want: string[] = [];
  for (const [id, seq] of theirs) if (want.length < MAX_WANT_PER_ANSWER && (store.get(id)?.seq ?? -1) < seq) want.push(id);
  const push: Uint8Array[] = [];
  for (const r of store.values()) {
    if (push.length >= MAX_PUSH_PER_ANSWER) break;
    const s = theirs.get(r.id);
    if ((s === undefined && inMask(r.id)) || (s !== undefined && s < r.seq)) push.push(r.bytes);
  }
  return [...(want.length ? [{ type: 'want' as const, ids: want }] : []), ...recordMessages(push)];
}

/**
 * Where a new record goes: `fanout` of the neighbours but `except`, starting
 * at a place the record picks (`salt`), so different records take different
 * neighbours and each node is told a few times, not by every neighbour.
 */
export function rumourTargets(neighbours: readonly string[], except: string | undefined, fanout: number, salt: number): string[] {
  return inTurn(except === undefined ? neighbours : neighbours.filter((n) => n !== except), salt, fanout);
}

/** The answer to a want: the records we hold of those asked for, each once (a repeated id is no amplifier). */
export function answerWant(store: RecordStore, ids: string[]): ControlMessage[] {
  return recordMessages([...new Set(ids)].slice(0, MAX_WANT_ANSWERED).map((id) => store.get(id)?.bytes).filter((b): b is Uint8Array => !!b));
}

/** The answer to an anti-entropy message about records (the revocation part of a SUMMARY is revocations.ts's). */
export function answerStore(store: RecordStore, m: Extract<ControlMessage, { type: 'summary' | 'digest' | 'buckets' | 'bdigest' | 'want' }>): ControlMessage[] {
  switch (m.type) {
    case 'summary': return answerSummary(store, m);
    case 'digest': return answerDigest(store, m.entries);
    case 'buckets': return answerBuckets(store, m.hashes);
    case 'bdigest': return answerBDigest(store, m.mask, m.entries);
    case 'want': return answerWant(store, m.ids);
  }
}
