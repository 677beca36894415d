// A node that restarts with its clock behind (a router before NTP) still
// publishes records newer than the ones its neighbours hold.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NodeCore } from '../../src/core/node.ts';
import { foundMesh, issueMember } from '../support/mesh.ts';
import { seededBytes } from '../support/rand.ts';
import { encodeRecord } from '../../src/core/record.ts';
import { toBase64 } from '../../src/core/bytes.ts';

const T_BEFORE = 1_800_000_000_000;
const T_BOOT = 1_600_000_000_000; // two clock-less years earlier

test('our own older-clock restart re-signs past the record it published before', () => {
  const rnd = seededBytes(7);
  const mesh = foundMesh(rnd, { nowMs: T_BEFORE });
  const f = mesh.founder;
  const opts = { network: mesh.network, chain: f.chain, signKeys: f.identity.sign, relay: true, configuredEndpoints: [], services: [], subnets: [] };
  const before = new NodeCore({ ...opts, lastSeq: 0, nowMs: T_BEFORE });
  const published = before.selfRecord;
  const after = new NodeCore({ ...opts, lastSeq: 0, nowMs: T_BOOT });
  assert.ok(after.selfRecord.seq < published.seq, 'precondition: the rebooted clock is behind');
  after.acceptRecord(published.bytes, T_BOOT); // from the record cache, or echoed by a neighbour
  const actions = after.tick(T_BOOT + 1000);
  assert.ok(after.selfRecord.seq > published.seq, `new seq ${after.selfRecord.seq} must pass ${published.seq}`);
  assert.ok(actions.some((a) => a.type === 'persist'));
  // A neighbour holding the old record takes the new one.
  const m = issueMember(rnd, mesh, 'home1', T_BEFORE);
  const peer = new NodeCore({ ...opts, chain: m.chain, signKeys: m.identity.sign, lastSeq: 0, nowMs: T_BEFORE });
  assert.ok(peer.acceptRecord(published.bytes, T_BEFORE));
  assert.ok(peer.acceptRecord(after.selfRecord.bytes, T_BEFORE + 5000), 'the re-signed record replaces the old one');
});

test('a restarted node publishes the link RTTs of its cached record, so its paths do not move', () => {
  const rnd = seededBytes(8);
  const mesh = foundMesh(rnd, { nowMs: T_BEFORE });
  const f = mesh.founder;
  const opts = { network: mesh.network, chain: f.chain, signKeys: f.identity.sign, relay: true, configuredEndpoints: [], services: [], subnets: [] };
  const peer = issueMember(rnd, mesh, 'home1', T_BEFORE);
  const peerRec = encodeRecord({ seq: T_BEFORE, endpoints: [], links: [], subnets: [], relay: true, exitCapacityMbit: 0, services: [] }, peer.chain, peer.identity.sign);
  // What the node published before it stopped: a 60 ms link to home1.
  const cached = encodeRecord({ seq: T_BEFORE, endpoints: [], links: [{ peer: peer.id, rttMs: 60 }], subnets: [], relay: true, exitCapacityMbit: 0, services: [] }, f.chain, f.identity.sign);
  const now = T_BEFORE + 10_000;
  const after = new NodeCore({ ...opts, lastSeq: 0, nowMs: now });
  after.acceptRecord(peerRec.bytes, now);
  after.acceptRecord(cached.bytes, now);
  after.observeWg([{ publicKey: toBase64(peer.identity.wgPub), endpoint: null, lastHandshakeMs: now, rxBytes: 0, txBytes: 0 }], now);
  assert.equal(after.selfRecord.links, [{ peer: peer.id, rttMs: 60 }], 'not 0 ms, as an unmeasured link would be');
});

test.run();
