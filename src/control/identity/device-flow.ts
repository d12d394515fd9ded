import type { Logger } from 'pino';
import { systemClock, type Clock } from '../../core/index.js';
import type { DeviceAuthorizationRepository, JsonValue } from '../../store/index.js';
import { secretKey } from './browser-session.js';
import { isDeviceCode, newDeviceCode, newUserCode, normalizeUserCode } from './device-codes.js';
import type { UserIdentity } from './user-identity.js';
import { CLI_AUDIENCE, type UserTokenAuthority } from './user-token.js';

/** How a {@link DeviceFlow} runs. */
export interface DeviceFlowOptions {
  /** The shared store's device authorizations (every edge of an HA set sees the same). */
  readonly repository: DeviceAuthorizationRepository;
  readonly authority: UserTokenAuthority;
  readonly clock?: Clock | undefined;
  readonly logger?: Logger | undefined;
  /** How long a device login waits for the user; default 10 min. */
  readonly ttlMs?: number | undefined;
  /** Least time between two polls, told to the CLI; default 5 s. */
  readonly intervalMs?: number | undefined;
  /** Lifetime of the token issued on approval; default 8 h (as the browser CLI login). */
  readonly tokenTtlMs?: number | undefined;
}

/** What the CLI gets when it starts a device login (the codes are only ever sent to it). */
export interface DeviceStart {
  readonly deviceCode: string;
  /** Canonical form; show it with formatUserCode. */
  readonly userCode: string;
  readonly expiresInMs: number;
  readonly intervalMs: number;
}

/** The RFC 8628 §3.5 errors a poll can answer. */
export type DevicePollError =
  'authorization_pending' | 'slow_down' | 'access_denied' | 'expired_token' | 'invalid_grant';

/** The answer to one poll: the user's token once approved, else why not (yet). */
export type DevicePoll =
  | {
      readonly token: string;
      readonly expiresAt: number;
      readonly user: string;
    }
  | { readonly error: DevicePollError; readonly intervalMs?: number };

/** A device login waiting for its user, as the verification page shows it. */
export interface PendingDevice {
  readonly userCode: string;
  readonly userKey: string;
  readonly clientIp: string;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/** Expired rows stay this long, so a late poll hears `expired_token` rather than "unknown". */
const EXPIRED_KEPT_MS = 600_000;
/** Network jitter between two polls that is not yet "too fast". */
const POLL_LEEWAY_MS = 500;
/** RFC 8628 §3.5: each `slow_down` adds 5 s to the interval. */
const SLOW_DOWN_MS = 5000;

/**
 * The edge's side of `postern login --device` (RFC 8628 device authorization): starts device
 * logins, answers polls, and records the user's decision. State lives in the shared store, so
 * the CLI may poll any edge; codes are stored only as SHA-256 hashes and are used once.
 */
export class DeviceFlow {
  readonly #o: DeviceFlowOptions;
  readonly #clock: Clock;
  readonly ttlMs: number;
  readonly intervalMs: number;

  constructor(options: DeviceFlowOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.ttlMs = options.ttlMs ?? 600_000;
    this.intervalMs = options.intervalMs ?? 5000;
  }

  /** Starts a device login requested from `clientIp`. */
  async start(clientIp: string): Promise<DeviceStart> {
    const repo = this.#o.repository;
    const now = this.#clock.now();
    await repo.sweep(now - EXPIRED_KEPT_MS);
    // A clash of user codes is rare (2^34 codes) but possible: draw again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const deviceCode = newDeviceCode();
      const userCode = newUserCode();
      const created = await repo.create({
        deviceKey: secretKey(deviceCode),
        userKey: userKeyOf(userCode),
        clientIp,
        createdAt: now,
        expiresAt: now + this.ttlMs,
        intervalMs: this.intervalMs,
      });
      if (created) {
        this.#o.logger?.info({ clientIp }, 'device login started');
        return { deviceCode, userCode, expiresInMs: this.ttlMs, intervalMs: this.intervalMs };
      }
    }
    throw new Error('could not draw an unused user code in 5 attempts');
  }

  /** Answers one poll of the CLI holding `deviceCode`. */
  async poll(deviceCode: string): Promise<DevicePoll> {
    const repo = this.#o.repository;
    if (!isDeviceCode(deviceCode)) return { error: 'invalid_grant' };
    const key = secretKey(deviceCode);
    const row = await repo.get(key);
    const now = this.#clock.now();
    if (!row) return { error: 'invalid_grant' };
    if (row.expiresAt <= now) return { error: 'expired_token' };
    if (row.status === 'denied') {
      return (await repo.take(key, 'denied'))
        ? { error: 'access_denied' }
        : { error: 'invalid_grant' };
    }
    if (row.status === 'approved') return this.#redeem(key);
    const inTime = await repo.recordPoll(key, {
      at: now,
      leewayMs: POLL_LEEWAY_MS,
      slowDownMs: SLOW_DOWN_MS,
    });
    return inTime
      ? { error: 'authorization_pending' }
      : { error: 'slow_down', intervalMs: row.intervalMs + SLOW_DOWN_MS };
  }

  /** The pending, unexpired device login a user code names, if any. */
  async pending(userCode: string): Promise<PendingDevice | undefined> {
    const code = normalizeUserCode(userCode);
    if (code === undefined) return undefined;
    const row = await this.#o.repository.findByUserKey(userKeyOf(code));
    if (!row || row.status !== 'pending' || row.expiresAt <= this.#clock.now()) return undefined;
    const { userKey, clientIp, createdAt, expiresAt } = row;
    return { userCode: code, userKey, clientIp, createdAt, expiresAt };
  }

  /** Records the user's decision on a pending login; false when it is no longer pending. */
  async decide(userCode: string, identity: UserIdentity, approve: boolean): Promise<boolean> {
    const code = normalizeUserCode(userCode);
    if (code === undefined) return false;
    const done = await this.#o.repository.decide(userKeyOf(code), {
      status: approve ? 'approved' : 'denied',
      at: this.#clock.now(),
      ...(approve ? { identity: JSON.parse(JSON.stringify(identity)) as JsonValue } : {}),
    });
    if (done) {
      this.#o.logger?.info(
        { user: identity.email ?? identity.subject, approved: approve },
        'device login decided',
      );
    }
    return done;
  }

  /** Deletes device logins that expired a while ago; returns how many went. */
  sweep(): Promise<number> {
    return this.#o.repository.sweep(this.#clock.now() - EXPIRED_KEPT_MS);
  }

  async #redeem(key: string): Promise<DevicePoll> {
    const taken = await this.#o.repository.take(key, 'approved');
    if (!taken?.identity) return { error: 'invalid_grant' };
    const identity = taken.identity as unknown as UserIdentity;
    const { token, expiresAt } = await this.#o.authority.issue(identity, {
      audience: CLI_AUDIENCE,
      ttlMs: this.#o.tokenTtlMs ?? 8 * 3600_000,
    });
    return { token, expiresAt, user: identity.email ?? identity.subject };
  }
}

/** The store key of a canonical user code. */
export function userKeyOf(code: string): string {
  return secretKey(`user-code:${code}`);
}
