import type { Clock } from '../core/index.js';
import { clientErrors } from './errors.js';

/** One answer of the edge's token endpoint: HTTP status and parsed JSON body. */
export interface PollAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** The token the edge issued once the user approved. */
export interface DeviceToken {
  readonly token: string;
  readonly expiresAt: number;
  readonly user: string | undefined;
}

/** How {@link pollDeviceToken} polls. */
export interface DevicePollOptions {
  readonly edgeUrl: string;
  /** Sends one poll (the device code is the caller's business). */
  readonly poll: () => Promise<PollAnswer>;
  readonly clock: Clock;
  /** The edge's `interval`, in seconds. */
  readonly intervalSeconds: number;
  /** The edge's `expires_in`, in seconds. */
  readonly expiresInSeconds: number;
  /** Polls that fail in a row (network) before giving up; default 5. */
  readonly maxFailures?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** RFC 8628 §3.5: on `slow_down` the interval grows by 5 s. */
const SLOW_DOWN_MS = 5000;

/**
 * Polls the edge's token endpoint until the user approved (the token), denied
 * (POSTERN_ERR_DEVICE_LOGIN_DENIED) or let the login expire (POSTERN_ERR_DEVICE_LOGIN_EXPIRED).
 * Waits `interval` before each poll and 5 s more after each `slow_down`; never polls past
 * `expires_in`, so the loop is bounded by it.
 */
export async function pollDeviceToken(options: DevicePollOptions): Promise<DeviceToken> {
  const { clock, edgeUrl } = options;
  let intervalMs = Math.max(1, options.intervalSeconds) * 1000;
  const deadline = clock.now() + options.expiresInSeconds * 1000;
  let failures = 0;
  for (;;) {
    await sleep(clock, intervalMs, options.signal);
    if (clock.now() >= deadline)
      throw clientErrors.deviceLoginExpired(edgeUrl, options.expiresInSeconds);
    let answer: PollAnswer;
    try {
      answer = await options.poll();
      failures = 0;
    } catch (err) {
      // A blip (an edge restarting behind the load balancer) is not the end of the login.
      if (++failures >= (options.maxFailures ?? 5)) {
        throw clientErrors.deviceLoginFailed(
          edgeUrl,
          `polling failed: ${(err as Error).message}`,
          err,
        );
      }
      continue;
    }
    const token = tokenOf(answer);
    if (token) return token;
    const { error, description, interval } = errorOf(answer);
    switch (error) {
      case 'authorization_pending':
        break;
      case 'slow_down':
        intervalMs = Math.max(intervalMs + SLOW_DOWN_MS, (interval ?? 0) * 1000);
        break;
      case 'access_denied':
        throw clientErrors.deviceLoginDenied(edgeUrl);
      case 'expired_token':
        throw clientErrors.deviceLoginExpired(edgeUrl, options.expiresInSeconds);
      default:
        throw clientErrors.deviceLoginFailed(
          edgeUrl,
          `the edge answered HTTP ${answer.status}${error ? ` ${error}` : ''}${description ? ` (${description})` : ''}`,
        );
    }
  }
}

function tokenOf(answer: PollAnswer): DeviceToken | undefined {
  if (answer.status !== 200 || typeof answer.body !== 'object' || answer.body === null)
    return undefined;
  const b = answer.body as Record<string, unknown>;
  if (typeof b.access_token !== 'string' || b.access_token === '') return undefined;
  return {
    token: b.access_token,
    expiresAt: typeof b.expires_at === 'number' ? b.expires_at : 0,
    user: typeof b.user === 'string' ? b.user : undefined,
  };
}

function errorOf(answer: PollAnswer): {
  error: string | undefined;
  description: string | undefined;
  interval: number | undefined;
} {
  const b = (typeof answer.body === 'object' && answer.body !== null ? answer.body : {}) as Record<
    string,
    unknown
  >;
  return {
    error: typeof b.error === 'string' ? b.error : undefined,
    description: typeof b.error_description === 'string' ? b.error_description : undefined,
    interval: typeof b.interval === 'number' ? b.interval : undefined,
  };
}

function sleep(clock: Clock, ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(clientErrors.loginTimeout(0));
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      reject(clientErrors.loginTimeout(0));
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
