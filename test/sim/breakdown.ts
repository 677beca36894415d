// Where the steady phase's control bytes go: `make sim`'s mesh bootstrapped
// as in run.ts, then nothing but the protocol for a while, cut in windows.
// Per window: bytes per node a second by control message type (and for
// records, by what made the node send them), and how often each node
// re-signed its record a minute, by the field of the body that changed.
//   KITH_SIM_SIZES=10,20 KITH_SIM_BREAKDOWN_S=300 npx tsx test/sim/breakdown.ts
// (also `KITH_SIM_BREAKDOWN=1 npx tsx test/sim/main.ts`, which prints it instead of the tables)
import { safeDecodeControl } from '../../src/core/gossip.ts';
import type { NodeRecord } from '../../src/core/record.ts';
import { Scenario } from './scenario.ts';
import { bootstrap } from './run.ts';
import { WIRE_OVERHEAD_BYTES, type SimNode } from './world.ts';

export interface Window {
  fromS: number;
  toS: number;
  nodes: number;
  /** Bytes on the wire (payload and headers) and datagrams, per message type, or 'records<-cause'. */
  bytes: Map<string, number>;
  datagrams: Map<string, number>;
  /** Re-signs by what changed: 'links+' (a peer added), 'links-' (removed), 'rtt' (only a link's RTT), 'endpoints', 'other'. */
  resigns: Map<string, number>;
  /** Re-signs, each once however many fields it changed. */
  resignCount: number;
  /** Netmap peer-set changes (WireGuard peers added or removed). */
  peerChanges: number;
}

const add = (m: Map<string, number>, k: string, v = 1) => m.set(k, (m.get(k) ?? 0) + v);

/** What changed between two records of one node (several reasons when several fields changed). */
export function resignReasons(a: NodeRecord, b: NodeRecord): string[] {
  const out: string[] = [];
  const pa = new Map(a.links.map((l) => [l.peer, l.rttMs]));
  const pb = new Map(b.links.map((l) => [l.peer, l.rttMs]));
  if ([...pb.keys()].some((p) => !pa.has(p))) out.push('links+');
  if ([...pa.keys()].some((p) => !pb.has(p))) out.push('links-');
  if ([...pb].some(([p, r]) => pa.has(p) && pa.get(p) !== r)) out.push('rtt');
  if (JSON.stringify(a.endpoints) !== JSON.stringify(b.endpoints)) out.push('endpoints');
  if (!out.length) out.push(JSON.stringify([a.subnets, a.relay, a.services, a.clients]) === JSON.stringify([b.subnets, b.relay, b.services, b.clients]) ? 'same body' : 'other');
  return out;
}

/** Bootstraps a mesh of `nodes`, then counts `seconds` of steady ticks in windows of `windowS`. */
export function breakdown(o: { nodes: number; seed: number; seconds: number; windowS: number }): Window[] {
  const s = new Scenario({ nodes: o.nodes, seed: o.seed, pairsPerTick: 200, convergeS: 90 });
  const { w } = s;
  const boot = bootstrap(s, () => s.step(), () => false);
  if (boot.convergeS === null) throw new Error(`${o.nodes} nodes did not converge`);
  let cur: Window | null = null;
  const last = new Map<SimNode, NodeRecord>();
  const peers = new Map<SimNode, string>();
  for (const n of w.live()) { last.set(n, n.core.selfRecord); peers.set(n, [...n.wg.peers.keys()].sort().join()); }
  w.onSend = (_n, bytes, cause) => {
    if (!cur) return;
    const t = safeDecodeControl(bytes)?.type ?? '?';
    const k = t === 'records' ? `records<-${cause}` : t;
    add(cur.bytes, k, bytes.length + WIRE_OVERHEAD_BYTES);
    add(cur.datagrams, k);
  };
  w.onActions = (n, actions) => {
    if (!cur) return;
    const prev = last.get(n);
    const rec = n.core.selfRecord;
    if (prev && rec.seq !== prev.seq) {
      cur.resignCount++;
      for (const r of resignReasons(prev, rec)) add(cur.resigns, r);
    }
    last.set(n, rec);
    if (actions.some((a) => a.type === 'netmap')) {
      const p = [...n.wg.peers.keys()].sort().join();
      if (p !== peers.get(n)) cur.peerChanges++;
      peers.set(n, p);
    }
  };
  const out: Window[] = [];
  for (let t = 0; t < o.seconds; t += o.windowS) {
    cur = { fromS: t, toS: t + o.windowS, nodes: w.live().length, bytes: new Map(), datagrams: new Map(), resigns: new Map(), resignCount: 0, peerChanges: 0 };
    for (let k = 0; k < o.windowS; k++) s.step();
    out.push(cur);
  }
  w.onSend = null;
  w.onActions = null;
  return out;
}

/** The windows as text: B/s per node by type, re-signs per node a minute by reason. */
export function formatBreakdown(nodes: number, ws: Window[]): string {
  const lines: string[] = [];
  const keys = [...new Set(ws.flatMap((x) => [...x.bytes.keys()]))].sort();
  const reasons = [...new Set(ws.flatMap((x) => [...x.resigns.keys()]))].sort();
  const head = ['window s', 'total B/s/node', ...keys.map((k) => `${k} B/s (dg/s)`), 'resigns/node/min', ...reasons.map((r) => `resign ${r}`), 'peer-set changes/node/min'];
  const rows = ws.map((x) => {
    const secs = x.toS - x.fromS;
    const per = (v: number) => v / x.nodes / secs;
    const perMin = (v: number) => (v / x.nodes / secs) * 60;
    const total = [...x.bytes.values()].reduce((a, b) => a + b, 0);
    return [
      `${x.fromS}-${x.toS}`, per(total).toFixed(0),
      ...keys.map((k) => `${per(x.bytes.get(k) ?? 0).toFixed(0)} (${per(x.datagrams.get(k) ?? 0).toFixed(2)})`),
      perMin(x.resignCount).toFixed(2), ...reasons.map((r) => perMin(x.resigns.get(r) ?? 0).toFixed(2)), perMin(x.peerChanges).toFixed(2),
    ];
  });
  const widths = head.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  lines.push(`${nodes} nodes, steady phase from convergence:`);
  lines.push(head.map((c, i) => c.padEnd(widths[i]!)).join(' | '));
  for (const r of rows) lines.push(r.map((c, i) => c.padEnd(widths[i]!)).join(' | '));
  return lines.join('\n');
}

/** Prints the breakdown of each size (KITH_SIM_BREAKDOWN_S seconds, windows of KITH_SIM_BREAKDOWN_WINDOW_S). */
export function printBreakdown(sizes: number[], seed: number): void {
  const seconds = Number(process.env.KITH_SIM_BREAKDOWN_S ?? 300);
  const windowS = Number(process.env.KITH_SIM_BREAKDOWN_WINDOW_S ?? 60);
  for (const n of sizes) console.log(`${formatBreakdown(n, breakdown({ nodes: n, seed, seconds, windowS }))}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  printBreakdown((process.env.KITH_SIM_SIZES ?? '10,20').split(',').map(Number), Number(process.env.KITH_SIM_SEED ?? 1));
  process.exit(0);
}
