// The end-to-end nudge: a peer added at the same moment on both ends whose
// first initiations crossed (and were dropped) is set up afresh after half a second,
// at most twice, and never once it has a session.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { E2eNudger, NUDGE_AFTER_MS, MAX_NUDGES } from '../../src/daemon/e2e-nudge.ts';
import type { WgState } from '../../src/wg/dump.ts';

const peer = (publicKey: string, latestHandshakeSec: number) => ({ publicKey, endpoint: null, allowedIPs: [], latestHandshakeSec, rxBytes: 0, txBytes: 0, keepaliveSec: 25, presharedKey: null });
const state = (...peers: ReturnType<typeof peer>[]) => ({ publicKey: 'me', listenPort: 51822, peers } as unknown as WgState);

test('no handshake after NUDGE_AFTER_MS: removed (so it is added afresh and dials), at most twice; a peer with a session is left alone', () => {
  const n = new E2eNudger();
  n.track(['a', 'b'], 0);
  assert.ok(n.watching);
  assert.equal(n.due(state(peer('a', 0), peer('b', 0)), NUDGE_AFTER_MS - 1), [], 'not before NUDGE_AFTER_MS');
  assert.equal(n.due(state(peer('a', 0), peer('b', 1000)), NUDGE_AFTER_MS), ['a'], 'b has a session');
  assert.equal(n.due(state(peer('a', 0)), NUDGE_AFTER_MS + 100), [], 'the next nudge waits again');
  assert.equal(n.due(state(peer('a', 0)), 2 * NUDGE_AFTER_MS), ['a']);
  assert.equal(n.due(state(peer('a', 0)), 10 * NUDGE_AFTER_MS), [], `at most ${MAX_NUDGES} nudges`);
  assert.not.ok(n.watching, 'nothing left to watch');
});

test('a peer that goes away is forgotten; one that comes back is watched again', () => {
  const n = new E2eNudger();
  n.track(['a'], 0);
  assert.equal(n.due(state(peer('a', 5)), NUDGE_AFTER_MS), []);
  assert.not.ok(n.watching);
  n.track([], 100);
  n.track(['a'], 200);
  assert.ok(n.watching);
  assert.equal(n.due(state(peer('a', 0)), 200 + NUDGE_AFTER_MS), ['a']);
});

test.run();
