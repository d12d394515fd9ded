import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Configuration } from '../config/index.js';
import type { UserIdentity } from '../control/index.js';
import type { Clock, TimerHandle } from '../core/index.js';
import type { AccessAsk, AccessAuthorizer } from './access-authorizer.js';

/** The close reason of a session cut because the configuration in force no longer allows it. */
export const ACCESS_REVOKED_REASON = 'access_revoked';

/** An open access session: what it asked, who asked, and how to end it. */
export interface OpenAccessSession {
  readonly sessionId: string;
  readonly ask: AccessAsk;
  readonly identity: UserIdentity;
  /** When the token that authorized the session was issued (ms): a later revocation cuts it. */
  readonly issuedAt: number;
  /** The configuration the session was last authorized under. */
  under: Configuration;
  /** Ends both sides at once, recording `closeReason` and `why`. */
  readonly cut: (closeReason: string, why: string) => void;
}

/** How {@link OpenAccessSessions} re-checks. */
export interface OpenAccessSessionsOptions {
  readonly authorizer: AccessAuthorizer;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * How often, while sessions are open, the configuration in force is compared with the one each
   * session was last authorized under; default 1 s.
   */
  readonly intervalMs?: number | undefined;
}

/**
 * The access proxy's open sessions, re-authorized after every configuration change with the
 * identity they were opened with. The edge's configuration is read through the authorizer (a
 * new object on each change), so one cheap comparison per session and interval finds a change;
 * no timer runs while no session is open.
 */
export class OpenAccessSessions {
  readonly #o: OpenAccessSessionsOptions;
  readonly #open = new Map<Duplex, OpenAccessSession>();
  #timer: TimerHandle | undefined;
  /** Whether a revocation check is under way (one at a time: the store may be slow). */
  #revoking = false;

  constructor(options: OpenAccessSessionsOptions) {
    this.#o = options;
  }

  /** The client sockets of the open sessions. */
  sockets(): IterableIterator<Duplex> {
    return this.#open.keys();
  }

  /** Watches a session carried on `client` until {@link delete}. */
  add(client: Duplex, session: OpenAccessSession): void {
    this.#open.set(client, session);
    this.#arm();
  }

  /** Forgets the session carried on `client` (it ended). */
  delete(client: Duplex): void {
    this.#open.delete(client);
  }

  /**
   * Re-authorizes every open session whose configuration is no longer the one in force, and cuts
   * those no longer allowed (close reason `access_revoked`). Returns how many it cut.
   */
  recheck(): number {
    const now = this.#o.authorizer.configuration;
    let cut = 0;
    for (const session of [...this.#open.values()]) {
      if (session.under === now) continue;
      session.under = now;
      const verdict = this.#o.authorizer.reauthorize(session.ask, session.identity);
      if (verdict.ok) continue;
      cut += 1;
      const { sessionId, ask, identity } = session;
      this.#o.logger.info(
        {
          sessionId,
          user: identity.email ?? identity.subject,
          destination: ask.target,
          reason: verdict.error.message,
        },
        'access session cut: access revoked',
      );
      session.cut(ACCESS_REVOKED_REASON, verdict.error.message);
    }
    return cut;
  }

  /**
   * Cuts every open session whose user an admin revoked after its token was issued (close
   * reason `access_revoked`); revocations are cached for a couple of seconds, so this reads the
   * store at most once per user and cache period. Returns how many it cut.
   */
  async recheckRevoked(): Promise<number> {
    const revocations = this.#o.authorizer.revocations;
    if (revocations === undefined) return 0;
    let cut = 0;
    for (const session of [...this.#open.values()]) {
      if (!(await revocations.revokedSince(session.identity, session.issuedAt))) continue;
      cut += 1;
      const { sessionId, ask, identity } = session;
      const why = "an administrator revoked the user's access";
      this.#o.logger.info(
        { sessionId, user: identity.email ?? identity.subject, destination: ask.target },
        'access session cut: user revoked',
      );
      session.cut(ACCESS_REVOKED_REASON, why);
    }
    return cut;
  }

  /** Stops re-checking; the sessions themselves are the caller's to end. */
  close(): void {
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #checkRevocations(): void {
    if (this.#revoking || this.#o.authorizer.revocations === undefined) return;
    this.#revoking = true;
    void this.recheckRevoked()
      .catch((err: unknown) =>
        this.#o.logger.warn({ err: (err as Error).message }, 'could not check revocations'),
      )
      .finally(() => (this.#revoking = false));
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#open.size === 0) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      this.recheck();
      this.#checkRevocations();
      this.#arm();
    }, this.#o.intervalMs ?? 1000);
    this.#timer.unref?.();
  }
}
