// Builds the crypto benchmark's fixture (Node.js, via tsx): a founded network
// with 100 members issued with real keys, each member's record, a newer
// record per member (the steady-state re-sign), and one signed message for
// the per-operation timings. Written as JSON of base64 to the path in argv[2].
import { writeFileSync } from 'node:fs';
import { encodeRecord, type RecordBody } from '../../src/core/record.ts';
import { signDetached } from '../../src/core/crypto.ts';
import { toBase64 } from '../../src/core/bytes.ts';
import { seededBytes } from '../../test/support/rand.ts';
import { foundMesh, issueMember } from '../../test/support/mesh.ts';

const MEMBERS = 100;
const nowMs = Date.now();
const rnd = seededBytes(0xbe4c);
const mesh = foundMesh(rnd, { name: 'bench', nowMs: nowMs - 60_000 });
const body = (seq: number): RecordBody => ({
  seq, endpoints: [{ kind: 'public', host: '192.0.2.10', port: 51820 }], links: [], subnets: [], relay: true, exitCapacityMbit: 0,
  services: [{ name: 'web', port: 80, proto: 'tcp', type: 'http' }],
});
const members = Array.from({ length: MEMBERS }, (_, i) => issueMember(rnd, mesh, `home${i}`, nowMs - 60_000));
const f = mesh.founder;
const message = rnd(600);
writeFileSync(process.argv[2]!, JSON.stringify({
  nowMs,
  network: toBase64(mesh.network.bytes),
  chain: f.chain.map((c) => toBase64(c.bytes)),
  founderSecret: toBase64(f.identity.sign.secretKey),
  records: members.map((m) => toBase64(encodeRecord(body(nowMs - 30_000), m.chain, m.identity.sign).bytes)),
  newer: members.map((m) => toBase64(encodeRecord(body(nowMs - 1_000), m.chain, m.identity.sign).bytes)),
  sample: { publicKey: toBase64(f.identity.sign.publicKey), message: toBase64(message), signature: toBase64(signDetached(message, f.identity.sign.secretKey)) },
}));
