// The netmap benchmark, under each runtime: the members' records of the
// fixture (bench/netmap/fixture.ts) decoded without their signature checks
// (this measures paths, not crypto), then computeNetmap from a different
// member's view each time, each time after one member's record changed (a new
// record object in the map), as every node does on every changed record.
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
  const reps = Number(p.env('KITH_BENCH_REPS') ?? 20);
  // The changed records, decoded outside the timing: each a new object, as a new record is.
  const changed = Array.from({ length: reps }, (_, i) => decodeRecord(fromBase64(fx.records[(i * 31 + 1) % fx.records.length]!), false));
  computeNetmap(ids[0]!, records, net); // warm: first-time caches outside the timing
  const t0 = p.clock.monoMs();
  for (let i = 0; i < reps; i++) {
    records.set(changed[i]!.id, changed[i]!);
    computeNetmap(ids[(i * 7919) % ids.length]!, records, net);
  }
  p.stdout(`result ${p.runtime} ${ids.length} netmap-ms ${((p.clock.monoMs() - t0) / reps).toFixed(2)}\n`);
}
