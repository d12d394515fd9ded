import type { Logger } from 'pino';
import type { Configuration, IdentityProvider, VirtualServer } from '../../config/index.js';
import { systemClock, type Clock, type TimerHandle } from '../../core/index.js';
import type { AccessGate } from '../../traffic/index.js';
import { PolicyEngine } from '../policy/index.js';
import { BrowserAccessGate, JwksOnlyGate, type AccessDecisionEntry } from './access-gate.js';
import { DEVICE_SCOPE, DEVICE_SESSION_MS } from './device-pages.js';
import { AuthPages, type DeviceStores } from './auth-pages.js';
import { expiry, type SessionTimeouts } from './browser-session.js';
import { IdentityProviders } from './identity-providers.js';
import { OidcClient } from './oidc-client.js';
import { MemorySessionStore, type SessionStore } from './session-store.js';
import { SqlSessionStore } from './sql-session-store.js';
import type { UserTokenAuthority } from './user-token.js';

/** How the edge's browser access is built. */
export interface BrowserAccessOptions {
  readonly authority: UserTokenAuthority;
  /** Default: a {@link MemorySessionStore}. */
  readonly store?: SessionStore | undefined;
  readonly clock?: Clock | undefined;
  readonly logger?: Logger | undefined;
  /** Every access decision, for the user activity log. */
  readonly onDecision?: ((entry: AccessDecisionEntry) => void) | undefined;
  /** Provider `postern login` uses; default the only one configured. */
  readonly cliIdentityProvider?: string | undefined;
  /** Lifetime of CLI tokens; default 8 h. */
  readonly cliTokenTtlMs?: number | undefined;
  /** How often expired sessions are dropped from the memory or shared store; default 5 min. */
  readonly sweepIntervalMs?: number | undefined;
  /** The shared store (its device login tables) for `postern login --device`; default none (not offered). */
  readonly devices?: DeviceStores | undefined;
  /** How long a `postern login --device` waits for approval; default 10 min. */
  readonly deviceLoginTtlMs?: number | undefined;
  /** Replaces OIDC discovery (tests). */
  readonly discover?: ((idp: IdentityProvider) => Promise<OidcClient>) | undefined;
}

/**
 * The edge's browser access: one set of auth pages, sessions and identity providers, and an
 * access gate per https virtual server and configuration generation.
 */
export class BrowserAccess {
  readonly #o: BrowserAccessOptions;
  readonly #providers: IdentityProviders;
  readonly #engines = new WeakMap<Configuration, PolicyEngine>();
  readonly #clock: Clock;
  /** Session timeouts by virtual server, for sweeping the in-memory store. */
  readonly #timeouts = new Map<string, SessionTimeouts>();
  /** Per identity provider: the shortest reauthentication timeout (s) of the servers using it. */
  #maxAges = new Map<string, number>();
  #sweepTimer: TimerHandle | undefined;
  /** The login endpoints; the access listener serves them with `pages.handle`. */
  readonly pages: AuthPages;

  constructor(options: BrowserAccessOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#providers = new IdentityProviders({
      discover:
        options.discover ??
        ((idp) =>
          OidcClient.discover(idp, {
            logger: options.logger,
            clock: this.#clock,
            maxAgeSeconds: () => this.maxAgeSeconds(idp.name),
          })),
    });
    const store = options.store ?? new MemorySessionStore();
    if (store instanceof MemorySessionStore) {
      this.#sweepEvery(() => this.sweep(store), options.sweepIntervalMs);
    } else if (store instanceof SqlSessionStore) {
      this.#sweepEvery(() => void this.#sweepShared(store), options.sweepIntervalMs);
    }
    this.pages = new AuthPages({
      authority: options.authority,
      store,
      providers: this.#providers,
      clock: options.clock,
      logger: options.logger,
      cliIdentityProvider: options.cliIdentityProvider,
      cliTokenTtlMs: options.cliTokenTtlMs,
      devices: options.devices,
      deviceLoginTtlMs: options.deviceLoginTtlMs,
    });
    // Abandoned device approval sessions are swept like those of a virtual server.
    this.#timeouts.set(DEVICE_SCOPE, {
      idleTimeoutMs: 0,
      reauthenticationTimeoutMs: DEVICE_SESSION_MS,
    });
  }

  /** Applies a configuration's identity providers (the runtime calls it on each reload). */
  configure(config: Configuration): void {
    this.#providers.update((config.identity_providers ?? []) as readonly IdentityProvider[]);
    this.#maxAges = maxAgesByProvider(config.virtual_servers ?? []);
  }

  /**
   * The `max_age` (s) logins at `identityProvider` send and check against `auth_time`: the
   * shortest `reauthentication_timeout_ms` of the https servers logging in there, so a user who
   * must log in again is asked by the provider too; undefined when no server uses it.
   */
  maxAgeSeconds(identityProvider: string): number | undefined {
    return this.#maxAges.get(identityProvider);
  }

  /** The gate of an https virtual server in `config`; undefined for other protocols. */
  gateFor(vs: VirtualServer, config: Configuration): AccessGate | undefined {
    if (vs.protocol !== 'https') return undefined;
    this.configure(config);
    if (vs.access === undefined || vs.access.login === 'none') return new JwksOnlyGate(this.pages);
    this.#timeouts.set(vs.name, {
      idleTimeoutMs: vs.access.idle_timeout_ms,
      reauthenticationTimeoutMs: vs.access.reauthentication_timeout_ms,
    });
    return new BrowserAccessGate({
      virtualServer: vs.name,
      access: vs.access,
      engine: this.#engine(config),
      pages: this.pages,
      authority: this.#o.authority,
      clock: this.#clock,
      onDecision: this.#o.onDecision,
    });
  }

  /** Stops sweeping expired sessions. */
  close(): void {
    if (this.#sweepTimer !== undefined) this.#clock.clearTimeout(this.#sweepTimer);
    this.#sweepTimer = undefined;
  }

  /** Sessions of servers that no longer require login, or that timed out, are dropped. */
  sweep(store: MemorySessionStore): void {
    const now = this.#clock.now();
    store.sweep((session) => {
      const timeouts = this.#timeouts.get(session.virtualServer);
      return timeouts === undefined || expiry(session, timeouts, now) !== undefined;
    }, now);
  }

  /** Every edge sweeps the shared store too; deleting an expired row twice is harmless. */
  async #sweepShared(store: SqlSessionStore): Promise<void> {
    try {
      await store.sweep(this.#timeouts);
      await this.pages.sweepDevices();
    } catch (err) {
      this.#o.logger?.warn({ err: (err as Error).message }, 'could not sweep browser sessions');
    }
  }

  #sweepEvery(sweep: () => void, intervalMs = 300_000): void {
    const tick = (): void => {
      sweep();
      this.#sweepTimer = this.#clock.setTimeout(tick, intervalMs);
      this.#sweepTimer.unref?.();
    };
    this.#sweepTimer = this.#clock.setTimeout(tick, intervalMs);
    this.#sweepTimer.unref?.();
  }

  #engine(config: Configuration): PolicyEngine {
    let engine = this.#engines.get(config);
    if (!engine) {
      engine = new PolicyEngine(config.access_policies ?? []);
      this.#engines.set(config, engine);
    }
    return engine;
  }
}

function maxAgesByProvider(servers: Configuration['virtual_servers']): Map<string, number> {
  const maxAges = new Map<string, number>();
  for (const vs of servers) {
    const access = vs.protocol === 'https' ? vs.access : undefined;
    if (access?.login !== 'required' || access.identity_provider === undefined) continue;
    const seconds = Math.floor(access.reauthentication_timeout_ms / 1000);
    const known = maxAges.get(access.identity_provider);
    if (known === undefined || seconds < known) maxAges.set(access.identity_provider, seconds);
  }
  return maxAges;
}
