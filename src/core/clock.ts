/** A source of time and timers, injected so tests can control it. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Monotonic milliseconds, for measuring durations. */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** An opaque timer handle; `unref` lets a process exit while it is pending. */
export interface TimerHandle {
  unref?(): unknown;
}

interface HostTimers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  performance: { now(): number };
}

const host = globalThis as unknown as HostTimers;

/** The real clock, backed by the host's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => host.performance.now(),
  setTimeout: (fn, ms) => host.setTimeout(fn, ms),
  clearTimeout: (handle) => host.clearTimeout(handle),
};
