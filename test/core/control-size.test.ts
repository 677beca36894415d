// Control datagrams longer than the largest control message (a runtime that
// receives UDP whole hands them to the core as they are) are dropped and
// counted as oversize, not as malformed and never thrown; from a non-member
// they cost nothing but the membership check.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NodeCore } from '../../src/core/node.ts';
import { MAX_CONTROL_BYTES, encodeControl } from '../../src/core/gossip.ts';
import { encodeRecord } from '../../src/core/record.ts';
import { formatIPv4 } from '../../src/core/ip.ts';
import { seededBytes } from '../support/rand.ts';
import { foundMesh, issueMember } from '../support/mesh.ts';

const T0 = 1_700_000_000_000;

test('an over-long control datagram from a member is counted as oversize; from anyone else as a non-member', () => {
  const rnd = seededBytes(5);
  const mesh = foundMesh(rnd, { name: 'size', nowMs: T0 });
  const f = mesh.founder;
  const core = new NodeCore({ network: mesh.network, chain: f.chain, signKeys: f.identity.sign, relay: true, configuredEndpoints: [], services: [], subnets: [], lastSeq: 0, nowMs: T0 });
  const m = issueMember(rnd, mesh, 'm', T0);
  assert.ok(core.acceptRecord(encodeRecord({ seq: T0, endpoints: [], links: [], subnets: [], relay: false, exitCapacityMbit: 0, services: [] }, m.chain, m.identity.sign).bytes, T0));
  const ip = formatIPv4(m.chain[0]!.ipv4);
  // A well-formed digest padded past the limit, and random bytes of 9217 and 65507.
  const digest = encodeControl({ type: 'digest', entries: [] });
  const padded = new Uint8Array(MAX_CONTROL_BYTES + 1); padded.set(digest);
  for (const b of [padded, rnd(9217), rnd(65507)]) assert.equal(core.handleControl(b, ip, T0 + 1), []);
  assert.is(core.dropped.oversize, 3);
  assert.is(core.dropped.malformed, 0);
  assert.is(core.dropped.failed, 0);
  assert.equal(core.handleControl(rnd(9217), '198.18.1.3', T0 + 1), []);
  assert.is(core.dropped.nonMember, 1);
  assert.is(core.dropped.oversize, 3);
  assert.ok(core.handleControl(encodeControl({ type: 'ping', nonce: 1, sentMs: T0 }), ip, T0 + 2).length === 1, 'the member is still answered');
});

test.run();
