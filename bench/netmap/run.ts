// The netmap benchmark, under each runtime: the members' records of the
// fixture (bench/netmap/fixture.ts) decoded without their signature checks
// (this measures paths, not crypto), then computeNetmap from one member's
// view, as that member's node does on every changed record: each time after
// another member's record changed (a new record object in the map, one of its
// links measured 40 ms slower, or back again, so about half the changes move
// an edge's weight).
// Prints "result <runtime> <members> netmap-ms <value>".
import type { Platform } from '../../src/platform/types.ts';
import { computeNetmap } from '../../src/core/netmap.ts';
import { decodeNetwork } from '../../src/core/network.ts';
import { decodeRecord, type NodeRecord } from '../../src/core/record.ts';
import { fromBase64, utf8Decode } from '../../src/core/bytes.ts';

export async function runBench(p: Platform): Promise<void> {
  const fx = JSON.parse(utf8Decode(await p.fs.readFile(p.env('KITH_BENCH_FIXTURE')!))) as { network: string; records: string[] };
  const net = decodeNetwork(fromBase64(fx.network)).params;
  const records = new Map<string, NodeRecord>();
  for (const b of fx.records) { const r = decodeRecord(fromBase64(b), false); records.set(r.id, r); }
  const ids = [...records.keys()];
  const self = ids[ids.length >> 1]!;
  const reps = Number(p.env('KITH_BENCH_REPS') ?? 20);
  // The changed records, made outside the timing: each a new object, as a new record is.
  const originals = Array.from({ length: 40 }, (_, i) => records.get(ids[(i * 31 + 1) % ids.length]!)!).filter((r) => r.id !== self && r.links.length);
  const changed = Array.from({ length: reps }, (_, i) => {
    const r = originals[i % originals.length]!, k = i % r.links.length, slower = Math.floor(i / originals.length) % 2 === 0;
    return { ...r, links: r.links.map((l, j) => (j === k && slower ? { ...l, rttMs: l.rttMs + 40 } : l)) };
  });
  computeNetmap(self, records, net); // warm: first-time caches outside the timing
  const t0 = p.clock.monoMs();
  for (let i = 0; i < reps; i++) {
    records.set(changed[i]!.id, changed[i]!);
    computeNetmap(self, records, net);
  }
  p.stdout(`result ${p.runtime} ${ids.length} netmap-ms ${((p.clock.monoMs() - t0) / reps).toFixed(2)}\n`);
}
