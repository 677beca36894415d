// The own record follows what the daemon sets: a change of the relay flag
// alone (nothing else in the record moves) is re-signed and published.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NodeCore } from '../../src/core/node.ts';
import { seededBytes } from '../support/rand.ts';
import { foundMesh } from '../support/mesh.ts';

const T0 = 1_700_000_000_000;

test('a relay flag change alone is re-signed and published; setting the same again is not', () => {
  const mesh = foundMesh(seededBytes(11), { name: 'resign', nowMs: T0 });
  const f = mesh.founder;
  const core = new NodeCore({ network: mesh.network, chain: f.chain, signKeys: f.identity.sign, relay: true, configuredEndpoints: [], services: [], subnets: [], lastSeq: 0, nowMs: T0 });
  const before = core.selfRecord;
  assert.is(before.relay, true);
  const actions = core.setConfigured([], [], false, T0 + 1000);
  assert.ok(actions.some((a) => a.type === 'persist'), `re-signed: ${actions.map((a) => a.type).join(',')}`);
  assert.is(core.selfRecord.relay, false);
  assert.ok(core.selfRecord.seq > before.seq);
  assert.equal(core.setConfigured([], [], false, T0 + 2000), []);
});

test.run();
