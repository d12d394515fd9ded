import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../../core/index.js';
import { IdleWatch, IdleWatches } from './idle-watch.js';

function setup(ms: number) {
  const clock = new FakeClock();
  const watches = new IdleWatches(clock, ms);
  let fired = 0;
  const watch = new IdleWatch(watches, () => fired++);
  return { clock, watch, fired: () => fired };
}

test('an idle watch fires once, after the timeout and within one tick of it', () => {
  const { clock, watch, fired } = setup(800);
  watch.start();
  clock.advance(799);
  assert.equal(fired(), 0);
  clock.advance(100); // one tick is 800 / 8 ms
  assert.equal(fired(), 1);
  clock.advance(5000);
  assert.equal(fired(), 1);
  assert.equal(clock.pending, 0, 'no timer left when nothing is watched');
});

test('activity postpones it, pausing and stopping prevent it', () => {
  const { clock, watch, fired } = setup(800);
  watch.start();
  clock.advance(700);
  watch.touch();
  clock.advance(700);
  assert.equal(fired(), 0, 'touched 700 ms ago');
  watch.paused = true;
  clock.advance(2000);
  assert.equal(fired(), 0, 'paused');
  watch.paused = false;
  watch.touch();
  watch.stop();
  clock.advance(2000);
  assert.equal(fired(), 0, 'stopped');
});

test('one timer serves many watches, and a timeout of 0 never fires', () => {
  const clock = new FakeClock();
  const watches = new IdleWatches(clock, 400);
  let fired = 0;
  const all = Array.from({ length: 100 }, () => new IdleWatch(watches, () => fired++));
  for (const w of all) w.start();
  assert.equal(clock.pending, 1);
  clock.advance(500);
  assert.equal(fired, 100);
  const never = setup(0);
  never.watch.start();
  never.clock.advance(10_000_000);
  assert.equal(never.fired(), 0);
  assert.equal(never.clock.pending, 0);
});
