// Link RTTs (src/core/rtt.ts): a link held on a relay by one bad reading is
// measured again after RTT_STALE_MS; a link that measures slow again waits
// twice as long each time (no flapping); one that measures fast starts over.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LinkRtts, MAX_FORGOTTEN, RTT_STALE_MS, RTT_STALE_MAX_MS } from '../../src/core/rtt.ts';

const direct = () => true;
/** Two direct pongs of `rtt` ms for link `id` at `now`: the link publishes rtt. */
function measure(r: LinkRtts, id: string, now: number, rtt: number): void {
  for (let i = 0; i < 2; i++) {
    const n = r.ping(id, true, now);
    assert.ok(r.pong(n, id, direct, now + rtt));
  }
}

test('a relayed link is forgotten after RTT_STALE_MS; slow again doubles the wait, fast resets it', () => {
  const r = new LinkRtts();
  let now = 1_000_000;
  measure(r, 'x', now, 300);
  assert.is(r.get('x'), 300);
  const relayed = () => false;
  r.sweep(now + RTT_STALE_MS - 1, relayed);
  assert.is(r.get('x'), 300, 'kept within the wait');
  now += RTT_STALE_MS + 1000;
  r.sweep(now, relayed);
  assert.is(r.get('x'), undefined, 'forgotten: it counts as fast and is measured again');
  for (let k = 1; k <= 6; k++) {
    measure(r, 'x', now, 280); // confirms the slow reading
    assert.is(r.staleAfterMs('x'), Math.min(RTT_STALE_MAX_MS, RTT_STALE_MS * 2 ** k), `confirmed ${k} times`);
    r.sweep(now + r.staleAfterMs('x') - 1, relayed);
    assert.is(r.get('x'), 280, 'kept for the longer wait');
    now += r.staleAfterMs('x') + 1000;
    r.sweep(now, relayed);
    assert.is(r.get('x'), undefined);
  }
  assert.is(r.staleAfterMs('x'), RTT_STALE_MAX_MS, 'capped');
  measure(r, 'x', now, 40); // the bad readings are over
  assert.is(r.staleAfterMs('x'), RTT_STALE_MS, 'a fast reading starts over');
});

test('a link still used directly is never forgotten; a relayed ping measures nothing', () => {
  const r = new LinkRtts();
  measure(r, 'y', 0, 50);
  r.sweep(10 * RTT_STALE_MAX_MS, direct);
  assert.is(r.get('y'), 50);
  const n = r.ping('y', false, 0);
  assert.not.ok(r.pong(n, 'y', direct, 500), 'through a relay: not a sample of the link');
  assert.is(r.get('y'), 50);
});

test('a forgotten link keeps its last reading (for trimming a full record) until measured again; the oldest forgotten go first', () => {
  const r = new LinkRtts();
  measure(r, 'z', 0, 300);
  assert.is(r.lastReading('z'), 300);
  r.sweep(RTT_STALE_MS + 1000, () => false);
  assert.is(r.get('z'), undefined, 'forgotten: published as fast, to be measured again');
  assert.is(r.lastReading('z'), 300, 'but not taken for a fast link when a full record picks its links');
  measure(r, 'z', RTT_STALE_MS + 2000, 90);
  assert.is(r.lastReading('z'), 90, 'a new reading replaces it');
  assert.is(r.lastReading('never'), undefined, 'a link never measured has no reading');
  const many = new LinkRtts();
  for (let i = 0; i <= MAX_FORGOTTEN; i++) measure(many, `l${i}`, i, 100 + (i % 7));
  many.sweep(MAX_FORGOTTEN + RTT_STALE_MS + 1000, () => false);
  assert.is(many.lastReading('l0'), undefined, 'beyond MAX_FORGOTTEN the oldest is dropped');
  assert.is(many.lastReading(`l${MAX_FORGOTTEN}`), 100 + (MAX_FORGOTTEN % 7), 'the newest kept');
});

test('a pong that answers no ping of ours, or comes from another member than the one pinged, is no reading', () => {
  const r = new LinkRtts();
  measure(r, 'a', 0, 80);
  assert.not.ok(r.pong(999_999, 'a', direct, 10), 'a nonce never sent');
  const n = r.ping('a', true, 100);
  assert.not.ok(r.pong(n, 'mallory', direct, 101), 'another member answering our ping to a');
  assert.is(r.lastReading('a'), 80, 'the reading that ranks the link is unchanged');
  assert.is(r.lastReading('mallory'), undefined);
  assert.ok(r.pong(n, 'a', direct, 130), 'a wrong answer does not spend the nonce: the real pong still measures');
  assert.is(r.lastReading('a'), 30);
});

test.run();
