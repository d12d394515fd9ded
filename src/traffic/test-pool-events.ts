// Test support: collects a pool's events and lets a test wait for one, bounded in time.
import assert from 'node:assert/strict';
import type { PoolEvent } from './pool-options.js';

/** A recorder to pass as `onEvent`, with a bounded wait for the next event of a type. */
export function poolEvents() {
  const events: PoolEvent[] = [];
  const taken = new Set<PoolEvent>();
  let wake: (() => void) | undefined;
  return {
    events,
    onEvent: (event: PoolEvent): void => {
      events.push(event);
      wake?.();
    },
    /** The oldest event of `type` not yet returned, waiting up to 5 s for it. */
    async next<T extends PoolEvent['type']>(type: T): Promise<Extract<PoolEvent, { type: T }>> {
      const deadline = Date.now() + 5_000;
      for (;;) {
        const found = events.find((e) => e.type === type && !taken.has(e));
        if (found !== undefined) {
          taken.add(found);
          return found as Extract<PoolEvent, { type: T }>;
        }
        assert.ok(Date.now() < deadline, `no ${type} event within 5 s`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
    },
  };
}

/** Waits until `condition` holds, polling every 5 ms for up to 5 s. */
export async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
