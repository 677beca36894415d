// When the own record may wait before it is re-signed. Every re-sign goes to
// every member and makes each of them compute a netmap, so in a large mesh
// the rate of record changes, not their size, is what costs: while a mesh of
// a few hundred members settles (links measured and published), each node
// used to re-sign about once a second, and every node received every one of
// those records several times (test/sim, DESIGN.md "Scale").
import { rttDriftOnly, sameBody, type RecordBody } from './record.ts';
import { RTT_RESIGN_MS } from './node-types.ts';

/** Meshes up to this size publish link changes at once (the next tick). */
export const PACE_FREE_MEMBERS = 20;
/** Beyond it, link changes wait this long per member, up to LINK_RESIGN_MAX_MS. */
export const LINK_RESIGN_PER_MEMBER_MS = 25;
export const LINK_RESIGN_MAX_MS = 30_000;
/**
 * A record's first links are published at once, up to this many: they make a
 * new member reachable through others. (Pacing from the first link on made a
 * 100-member mass join converge in 28 s at the median of six seeds, against
 * 24 s with this, which also sent a fifth fewer bytes: test/sim/bootstrap.ts.)
 */
export const PACE_FREE_LINKS = 8;

/**
 * How long after its last re-sign a node holds back a change of links that
 * ends none: about 40 record changes a second across the whole mesh at most,
 * whatever its size (25 ms a member), so what every member receives stays
 * bounded while a large mesh settles.
 */
export function linkResignGapMs(members: number): number {
  return Math.min(LINK_RESIGN_MAX_MS, Math.max(0, members - PACE_FREE_MEMBERS) * LINK_RESIGN_PER_MEMBER_MS);
}

/**
 * Whether `next` differs from `body` only in its links, and every link it
 * drops is still alive (left out to fit the record): new links, RTTs and
 * trims. A link that ended is not among these: members must stop routing
 * through it at once.
 */
export function linksGrowOnly(next: RecordBody, body: RecordBody, live: ReadonlySet<string>): boolean {
  const kept = new Set(next.links.map((l) => l.peer));
  return body.links.every((l) => kept.has(l.peer) || live.has(l.peer)) && sameBody({ ...next, links: body.links }, body);
}

/**
 * Whether the change from `body` (signed at body.seq) to `next` may wait:
 * RTT drift alone for RTT_RESIGN_MS; links that grow for linkResignGapMs of
 * the mesh's size, once the record has PACE_FREE_LINKS links (a new member's
 * first links, which make it reachable through others, go out at once). Everything else
 * (endpoints, services, relay, a link that ended) is published at once.
 */
export function mayWait(next: RecordBody, body: RecordBody, nowMs: number, live: ReadonlySet<string>, members: number): boolean {
  const since = nowMs - body.seq;
  if (rttDriftOnly(next, body) && since < RTT_RESIGN_MS) return true;
  return body.links.length >= PACE_FREE_LINKS && since < linkResignGapMs(members) && linksGrowOnly(next, body, live);
}

/** Beyond PACE_FREE_MEMBERS, a node applies a changed netmap at most this often: 1 ms a member, up to NETMAP_GAP_MAX_MS. */
export const NETMAP_GAP_PER_MEMBER_MS = 1;
export const NETMAP_GAP_MAX_MS = 1000;

/**
 * The least time between the starts of two netmap applies (kithd's apply
 * loop; the simulator's too). A netmap costs about 9 ms under Node.js and
 * 27 ms under txiki.js at 1000 members on a desktop CPU (make bench-netmap),
 * several times that on a router's, and while a large mesh settles records
 * change many times a second: without a gap, following them would take a
 * router's whole CPU. Changes meanwhile coalesce into the next apply; a small
 * mesh applies at once.
 */
export function netmapGapMs(members: number): number {
  return members <= PACE_FREE_MEMBERS ? 0 : Math.min(NETMAP_GAP_MAX_MS, members * NETMAP_GAP_PER_MEMBER_MS);
}
