import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FakeClock } from '../../core/index.js';
import { HALF_CLOSED_TIMEOUT_MS, TunnelWatch, type TunnelExpiry } from './tunnel-watch.js';

function watch(idleMs: number): { clock: FakeClock; w: TunnelWatch; fired: TunnelExpiry[] } {
  const clock = new FakeClock();
  const fired: TunnelExpiry[] = [];
  const w = new TunnelWatch(clock, { idleMs, onExpire: (why) => fired.push(why) });
  return { clock, w, fired };
}

describe('TunnelWatch', () => {
  test('an open tunnel expires once idle for idleMs, and activity postpones it', () => {
    const { clock, w, fired } = watch(1000);
    clock.advance(900);
    w.touch();
    clock.advance(900);
    assert.deepEqual(fired, []);
    clock.advance(100);
    assert.deepEqual(fired, ['idle_timeout']);
    clock.advance(5000);
    assert.deepEqual(fired, ['idle_timeout'], 'fires once');
  });

  test('after one side finished, the other gets the half-closed bound, capped by idleMs', () => {
    const long = watch(600_000);
    long.w.halfClosed();
    long.clock.advance(HALF_CLOSED_TIMEOUT_MS - 1);
    assert.deepEqual(long.fired, []);
    long.clock.advance(1);
    assert.deepEqual(long.fired, ['half_closed_timeout']);

    const short = watch(300);
    short.w.halfClosed();
    short.clock.advance(300);
    assert.deepEqual(short.fired, ['half_closed_timeout']);
  });

  test('idleMs 0 never expires an open tunnel, but a half-closed one still ends', () => {
    const { clock, w, fired } = watch(0);
    clock.advance(10 * HALF_CLOSED_TIMEOUT_MS);
    assert.deepEqual(fired, []);
    w.halfClosed();
    w.halfClosed();
    clock.advance(HALF_CLOSED_TIMEOUT_MS);
    assert.deepEqual(fired, ['half_closed_timeout']);
  });

  test('a stopped watch never fires and leaves no timer', () => {
    const { clock, w, fired } = watch(1000);
    w.stop();
    assert.equal(clock.pending, 0);
    clock.advance(5000);
    w.halfClosed();
    clock.advance(HALF_CLOSED_TIMEOUT_MS);
    assert.deepEqual(fired, []);
  });
});
