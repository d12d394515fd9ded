import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../../core/index.js';
import { IdleSweeper, IdleWatch } from './idle-watch.js';

function setup(ms: number) {
  const clock = new FakeClock();
  const sweeper = new IdleSweeper(clock, ms);
  let fired = 0;
  const watch = new IdleWatch(sweeper, () => fired++);
  return { clock, sweeper, watch, fired: () => fired };
}

test('an idle watch fires once, no earlier than the timeout and within a sweep period of it', () => {
  const { clock, watch, fired } = setup(800);
  clock.advance(100);
  watch.start();
  clock.advance(799);
  assert.equal(fired(), 0);
  clock.advance(200); // the sweep period of an 800 ms timeout
  assert.equal(fired(), 1);
  clock.advance(5000);
  assert.equal(fired(), 1);
  assert.equal(clock.pending, 0, 'no timer left once nothing is watched');
});

test('activity postpones it, pausing and stopping prevent it', () => {
  const { clock, watch, fired } = setup(800);
  watch.start();
  clock.advance(700);
  watch.touch();
  clock.advance(700);
  assert.equal(fired(), 0, 'touched 700 ms ago');
  watch.touchAt(clock.monotonic());
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

test('a timeout of 0 never fires and arms no timer', () => {
  const { clock, watch, fired } = setup(0);
  watch.start();
  assert.equal(clock.pending, 0);
  clock.advance(10_000_000);
  assert.equal(fired(), 0);
});

test('one timer serves many watches; each fires on its own idleness', () => {
  const clock = new FakeClock();
  const sweeper = new IdleSweeper(clock, 400);
  const fired: string[] = [];
  const a = new IdleWatch(sweeper, () => fired.push('a'));
  const b = new IdleWatch(sweeper, () => fired.push('b'));
  const c = new IdleWatch(sweeper, () => fired.push('c'));
  a.start();
  b.start();
  c.start();
  assert.equal(clock.pending, 1, 'one timer for all watches');
  clock.advance(300);
  b.touch();
  c.stop();
  clock.advance(200);
  assert.deepEqual(fired, ['a']);
  clock.advance(300);
  assert.deepEqual(fired, ['a', 'b']);
  clock.advance(1000);
  assert.deepEqual(fired, ['a', 'b']);
  assert.equal(clock.pending, 0);
});

test('watches that stop or start others when they fire are each handled once', () => {
  const clock = new FakeClock();
  const sweeper = new IdleSweeper(clock, 400);
  const fired: string[] = [];
  const watches = new Map<string, IdleWatch>();
  const watch = (name: string, onIdle: () => void = () => {}) => {
    const w = new IdleWatch(sweeper, () => {
      fired.push(name);
      onIdle();
    });
    watches.set(name, w);
    return w;
  };
  // d is started last, so it is first in the list: it stops b, which is idle too, and restarts a.
  const a = watch('a');
  const b = watch('b');
  const c = watch('c');
  const d = watch('d', () => {
    watches.get('b')?.stop();
    a.start();
  });
  for (const w of [a, b, c, d]) w.start();
  a.start(); // started twice: still one entry
  assert.equal(sweeper.size, 4);
  clock.advance(500);
  assert.deepEqual(fired.sort(), ['c', 'd']);
  assert.equal(sweeper.size, 1, 'a, restarted by d, is still watched');
  clock.advance(500);
  assert.deepEqual(fired.sort(), ['a', 'c', 'd']);
  assert.equal(sweeper.size, 0);
  assert.equal(clock.pending, 0);
  b.start();
  c.stop(); // stopping a watch that is not started changes nothing
  assert.equal(sweeper.size, 1);
});
