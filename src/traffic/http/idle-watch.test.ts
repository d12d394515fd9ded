import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../../core/index.js';
import { IdleWatch } from './idle-watch.js';

function setup(ms: number) {
  const clock = new FakeClock();
  let fired = 0;
  const watch = new IdleWatch(clock, ms, () => fired++);
  return { clock, watch, fired: () => fired };
}

test('an idle watch fires once, when nothing happened for the timeout', () => {
  const { clock, watch, fired } = setup(800);
  watch.start();
  clock.advance(799);
  assert.equal(fired(), 0);
  clock.advance(1);
  assert.equal(fired(), 1);
  clock.advance(5000);
  assert.equal(fired(), 1);
  assert.equal(clock.pending, 0, 'no timer left');
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
  assert.equal(clock.pending, 0);
});

test('a timeout of 0 never fires', () => {
  const { clock, watch, fired } = setup(0);
  watch.start();
  clock.advance(10_000_000);
  assert.equal(fired(), 0);
  assert.equal(clock.pending, 0);
});
