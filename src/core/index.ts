export { PosternError, isPosternError, CoreErrors } from './errors.js';
export type { Clock, TimerHandle } from './clock.js';
export { systemClock } from './clock.js';
export { FakeClock } from './fake-clock.js';
export { Backoff } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export { definedProps } from './objects.js';
export type { DefinedProps } from './objects.js';
