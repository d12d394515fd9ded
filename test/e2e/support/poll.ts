import { setTimeout as delay } from 'node:timers/promises';

/**
 * Calls `probe` until it returns a value other than undefined, at most every `intervalMs`, and
 * fails after `timeoutMs` with the last value seen. For state that offers no event to await
 * (an HTTP API in another namespace).
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number; what: string; last?: () => string },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (let attempt = 1; ; attempt++) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) {
      throw new Error(
        `${options.what}: not reached within ${options.timeoutMs} ms (${attempt} checks)${options.last ? `; last: ${options.last()}` : ''}`,
      );
    }
    await delay(options.intervalMs ?? 100);
  }
}
