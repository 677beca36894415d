// Builds the RSS benchmark's state (Node.js, via tsx): a founded network with
// N members issued with real keys, written as the founder's state directory —
// state.json (its keys and membership) and run/records.json (every member's
// signed record, as kithd's record cache) — so that kithd starts already
// holding N member records. Usage: fixture.ts <state-dir> <members>
import { mkdirSync, writeFileSync } from 'node:fs';
import { encodeRecord, type RecordBody } from '../../src/core/record.ts';
import { toBase64 } from '../../src/core/bytes.ts';
import type { DurableState } from '../../src/daemon/state.ts';
import { seededBytes } from '../../test/support/rand.ts';
import { foundMesh, issueMember } from '../../test/support/mesh.ts';

const [dir, count] = [process.argv[2]!, Number(process.argv[3])];
if (!dir || !Number.isInteger(count) || count < 1) throw new Error('usage: fixture.ts <state-dir> <members>');
const nowMs = Date.now();
const rnd = seededBytes(0x5e7);
const mesh = foundMesh(rnd, { name: 'rss', nowMs: nowMs - 60_000 });
const f = mesh.founder;
const members = Array.from({ length: count }, (_, i) => issueMember(rnd, mesh, `home${i}`, nowMs - 60_000));
// Members as a real mesh shows them: a public endpoint, links to a few others, two services.
const body = (i: number): RecordBody => ({
  seq: nowMs - 30_000,
  endpoints: [{ kind: 'public', host: `192.0.2.${(i % 250) + 2}`, port: 51820 }, { kind: 'lan', host: `198.18.${i % 250}.2`, port: 51820 }],
  links: members.slice(i + 1, i + 4).map((m, k) => ({ peer: m.id, rttMs: 5 + k })),
  subnets: [], relay: true, exitCapacityMbit: 0,
  services: [{ name: 'web', port: 80, proto: 'tcp', type: 'http' }, { name: 'nas', port: 445, proto: 'tcp', type: 'smb' }],
});
const state: DurableState = {
  version: 1,
  signSeed: toBase64(f.identity.sign.secretKey.subarray(0, 32)),
  wgPrivate: toBase64(f.identity.wgPriv),
  membership: {
    network: toBase64(mesh.network.bytes), chain: f.chain.map((c) => toBase64(c.bytes)), networkSeed: null,
    alloc: f.alloc, invites: [], endpoints: ['192.0.2.1:51820'],
  },
};
mkdirSync(`${dir}/run`, { recursive: true, mode: 0o700 });
writeFileSync(`${dir}/state.json`, JSON.stringify(state, null, 1) + '\n', { mode: 0o600 });
writeFileSync(`${dir}/run/records.json`, JSON.stringify(members.map((m, i) => toBase64(encodeRecord(body(i), m.chain, m.identity.sign).bytes))), { mode: 0o600 });
