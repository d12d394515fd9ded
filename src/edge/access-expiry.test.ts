import assert from 'node:assert/strict';
import test from 'node:test';
import { FakeClock } from '../core/index.js';
import { AccessExpiry } from './access-expiry.js';

test('a session is ended when the clock reaches its expiry, not a millisecond before', () => {
  const clock = new FakeClock();
  const expiry = new AccessExpiry({ clock });
  let ended = 0;
  expiry.watch(clock.now() + 2000, () => (ended += 1));
  clock.advance(1999);
  assert.equal(ended, 0);
  clock.advance(1);
  assert.equal(ended, 1);
  assert.equal(expiry.size, 0);
  assert.equal(clock.pending, 0, 'nothing left to watch, so no timer stays armed');
});

test('thousands of sessions over a few deadlines share one timer and end in deadline order', () => {
  const clock = new FakeClock();
  const expiry = new AccessExpiry({ clock });
  const order: number[] = [];
  const base = clock.now();
  for (let i = 0; i < 3000; i++) {
    const deadline = base + 1000 * (3 - (i % 3));
    expiry.watch(deadline, () => order.push(deadline));
  }
  assert.equal(expiry.size, 3000);
  assert.equal(clock.pending, 1, 'one timer, armed for the earliest deadline');
  clock.advance(1000);
  assert.equal(order.length, 1000);
  assert.ok(order.every((d) => d === base + 1000));
  assert.equal(clock.pending, 1);
  clock.advance(2000);
  assert.equal(order.length, 3000);
  assert.deepEqual(
    [...new Set(order)],
    [base + 1000, base + 2000, base + 3000],
    'deadlines fire earliest first',
  );
  assert.equal(expiry.size, 0);
});

test('a session that ended before its expiry is not called, and stopping twice is harmless', () => {
  const clock = new FakeClock();
  const expiry = new AccessExpiry({ clock });
  const ended: string[] = [];
  const stopA = expiry.watch(clock.now() + 1000, () => ended.push('a'));
  expiry.watch(clock.now() + 1000, () => ended.push('b'));
  stopA();
  stopA();
  assert.equal(expiry.size, 1);
  clock.advance(1000);
  assert.deepEqual(ended, ['b']);
});

test('the last session stopping disarms the timer', () => {
  const clock = new FakeClock();
  const expiry = new AccessExpiry({ clock });
  const stop = expiry.watch(clock.now() + 60_000, () => assert.fail('must not fire'));
  assert.equal(clock.pending, 1);
  stop();
  assert.equal(clock.pending, 0);
  clock.advance(120_000);
});

test('an earlier deadline watched later re-arms the timer for it', () => {
  const clock = new FakeClock();
  const expiry = new AccessExpiry({ clock });
  const ended: string[] = [];
  expiry.watch(clock.now() + 10_000, () => ended.push('late'));
  expiry.watch(clock.now() + 500, () => ended.push('early'));
  assert.equal(clock.pending, 1, 'the old timer was replaced, not doubled');
  clock.advance(500);
  assert.deepEqual(ended, ['early']);
  clock.advance(9500);
  assert.deepEqual(ended, ['early', 'late']);
});

test('a deadline already passed ends the session from the timer, not inside watch', () => {
  const clock = new FakeClock();
  const expiry = new AccessExpiry({ clock });
  let ended = false;
  expiry.watch(clock.now() - 5000, () => (ended = true));
  assert.equal(ended, false, 'the caller finishes setting up before the session is cut');
  clock.advance(0);
  assert.equal(ended, true);
});

test('an expiry beyond the longest timer wait re-arms until it is reached', () => {
  const clock = new FakeClock();
  const expiry = new AccessExpiry({ clock, maxWaitMs: 1000 });
  let ended = false;
  expiry.watch(clock.now() + 3500, () => (ended = true));
  clock.advance(3000);
  assert.equal(ended, false);
  assert.equal(clock.pending, 1);
  clock.advance(500);
  assert.equal(ended, true);
});

test('thousands of sessions ending early leave no timer armed, and later sessions still fire', () => {
  const clock = new FakeClock();
  const expiry = new AccessExpiry({ clock });
  for (let i = 1; i <= 5000; i++) expiry.watch(clock.now() + i * 1000, () => undefined)();
  assert.equal(expiry.size, 0);
  assert.equal(clock.pending, 0);
  let ended = 0;
  expiry.watch(clock.now() + 2000, () => (ended += 1));
  expiry.watch(clock.now() + 2000, () => (ended += 1));
  clock.advance(2000);
  assert.equal(ended, 2);
});

test('a session watched from inside an expiry callback is kept and fires on time', () => {
  const clock = new FakeClock();
  const expiry = new AccessExpiry({ clock });
  let second = false;
  expiry.watch(clock.now() + 1000, () => {
    expiry.watch(clock.now() + 1000, () => (second = true));
  });
  clock.advance(1000);
  assert.equal(expiry.size, 1);
  clock.advance(1000);
  assert.equal(second, true);
});

test('close forgets every session and stops the timer', () => {
  const clock = new FakeClock();
  const expiry = new AccessExpiry({ clock });
  expiry.watch(clock.now() + 1000, () => assert.fail('must not fire after close'));
  expiry.close();
  assert.equal(expiry.size, 0);
  assert.equal(clock.pending, 0);
  clock.advance(5000);
});
