// A member that sends forged records (bad signatures) with new signature bytes
// each time defeats the cache of failed records: at its control rate it made a
// router spend 60 % of a core on signature checks under txiki.js (bench/attack.sh).
// Honest members forward only records they verified, so each forgery spends
// the sender's small budget; once spent, its records are refused unchecked.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NodeCore } from '../../src/core/node.ts';
import { encodeControl } from '../../src/core/gossip.ts';
import { encodeRecord, type RecordBody } from '../../src/core/record.ts';
import { FORGERY_BUDGET } from '../../src/core/verify.ts';
import { formatIPv4 } from '../../src/core/ip.ts';
import { seededBytes } from '../support/rand.ts';
import { foundMesh, issueMember, type Member } from '../support/mesh.ts';

const T0 = 1_700_000_000_000;
const EMPTY: RecordBody = { seq: T0, endpoints: [], links: [], subnets: [], relay: true, exitCapacityMbit: 0, services: [] };

test('forged records from one member: a burst is checked, the rest refused unchecked; others and the budget\'s refill are unaffected', () => {
  const rnd = seededBytes(91);
  const mesh = foundMesh(rnd, { name: 'forge', nowMs: T0 });
  const f = mesh.founder;
  const core = new NodeCore({ network: mesh.network, chain: f.chain, signKeys: f.identity.sign, relay: true, configuredEndpoints: [], services: [], subnets: [], lastSeq: 0, nowMs: T0 });
  const forger = issueMember(rnd, mesh, 'forger', T0);
  const honest = issueMember(rnd, mesh, 'honest', T0);
  const recordOf = (m: Member, seq: number) => encodeRecord({ ...EMPTY, seq }, m.chain, m.identity.sign).bytes;
  assert.ok(core.acceptRecord(recordOf(forger, T0), T0));
  assert.ok(core.acceptRecord(recordOf(honest, T0), T0));
  const send = (m: Member, rec: Uint8Array, now: number) => core.handleControl(encodeControl({ type: 'records', records: [rec] }), formatIPv4(m.chain[0]!.ipv4), now);
  const now = T0 + 1000;
  for (let i = 1; i <= 200; i++) {
    const forged = recordOf(forger, T0 + i).slice();
    forged.set(rnd(16), forged.length - 16); // new signature bytes each time: the failure cache cannot help
    assert.equal(send(forger, forged, now), []);
  }
  assert.is(core.dropped.badSignature, FORGERY_BUDGET.burst, 'only the burst was checked');
  assert.is(core.dropped.forger, 200 - FORGERY_BUDGET.burst, 'the rest refused unchecked');
  assert.is(core.dropped.rateLimited, 0, 'all within the control rate: the budget did it');
  // The budget is the forger's own: an honest member's news still goes through.
  assert.ok(send(honest, recordOf(honest, T0 + 500), now).some((a) => a.type === 'netmap'), 'honest record accepted');
  // The forger's genuine record waits until its budget refills.
  assert.equal(send(forger, recordOf(forger, T0 + 600), now), []);
  assert.is(core.dropped.forger, 201 - FORGERY_BUDGET.burst);
  const refill = 1000 / FORGERY_BUDGET.ratePerSec + 1000;
  assert.ok(send(forger, recordOf(forger, T0 + 700), now + refill).some((a) => a.type === 'netmap'), 'accepted after a refill');
  // Records from disk or a join reply (no sender) are not subject to it.
  assert.ok(core.acceptRecord(recordOf(forger, T0 + 800), now));
});

test('replaying one known forgery spends the budget too: after it, not even a decode', () => {
  const rnd = seededBytes(92);
  const mesh = foundMesh(rnd, { name: 'forge', nowMs: T0 });
  const f = mesh.founder;
  const core = new NodeCore({ network: mesh.network, chain: f.chain, signKeys: f.identity.sign, relay: true, configuredEndpoints: [], services: [], subnets: [], lastSeq: 0, nowMs: T0 });
  const forger = issueMember(rnd, mesh, 'forger', T0);
  assert.ok(core.acceptRecord(encodeRecord({ ...EMPTY, seq: T0 }, forger.chain, forger.identity.sign).bytes, T0));
  const forged = encodeRecord({ ...EMPTY, seq: T0 + 1 }, forger.chain, forger.identity.sign).bytes.slice();
  forged[forged.length - 1]! ^= 1;
  const msg = encodeControl({ type: 'records', records: [forged] });
  for (let i = 0; i < 100; i++) core.handleControl(msg, formatIPv4(forger.chain[0]!.ipv4), T0 + 1000);
  assert.is(core.dropped.badSignature, 1, 'verified once');
  assert.is(core.dropped.knownBad, FORGERY_BUDGET.burst - 1, 'replays until the budget is spent');
  assert.is(core.dropped.forger, 100 - FORGERY_BUDGET.burst, 'then refused before decoding');
});

test.run();
