// Builds the netmap benchmark's fixture (Node.js, via tsx): a founded network
// with N members (argv[3]), each linked to up to 16 others at random (seeded),
// nine in ten behind NAT (a LAN and a public endpoint), one in ten with a
// configured endpoint; each member's signed record. JSON of base64 to argv[2].
import { writeFileSync } from 'node:fs';
import { encodeRecord, type RecordBody } from '../../src/core/record.ts';
import { toBase64 } from '../../src/core/bytes.ts';
import { seededBytes, mulberry32 } from '../../test/support/rand.ts';
import { foundMesh, issueMember } from '../../test/support/mesh.ts';

const n = Number(process.argv[3] ?? 100);
const nowMs = Date.now();
const rnd = seededBytes(0x6e37);
const r = mulberry32(0x6e37);
const mesh = foundMesh(rnd, { name: 'bench', nowMs: nowMs - 60_000 });
const members = [mesh.founder, ...Array.from({ length: n - 1 }, (_, i) => issueMember(rnd, mesh, `home${i}`, nowMs - 60_000))];
const links = members.map(() => new Set<number>());
for (let i = 0; i < n; i++) {
  for (let k = 0; k < 8; k++) {
    const j = Math.floor(r() * n);
    if (j !== i && links[i]!.size < 16 && links[j]!.size < 16) { links[i]!.add(j); links[j]!.add(i); }
  }
}
const body = (i: number): RecordBody => ({
  seq: nowMs - 30_000,
  endpoints: i % 10
    ? [{ kind: 'lan', host: `10.${i >> 8}.${i & 255}.2`, port: 51820 }, { kind: 'public', host: `198.51.100.${(i % 250) + 1}`, port: 40000 + i }]
    : [{ kind: 'configured', host: `192.0.2.${(i % 250) + 1}`, port: 51820 }],
  links: [...links[i]!].map((j) => ({ peer: members[j]!.id, rttMs: 10 + ((i + j) % 50) })),
  subnets: [], services: [], relay: true, exitCapacityMbit: 0,
});
writeFileSync(process.argv[2]!, JSON.stringify({
  nowMs,
  network: toBase64(mesh.network.bytes),
  records: members.map((m, i) => toBase64(encodeRecord(body(i), m.chain, m.identity.sign).bytes)),
}));
