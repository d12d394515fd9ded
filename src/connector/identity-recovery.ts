import type { Logger } from 'pino';
import { isPosternError } from '../core/index.js';
import {
  expiredCertificate,
  isPermanentEnrollmentError,
  isRevocation,
} from './connector-refusals.js';
import { renewExpiredCertificate } from './enrollment-client.js';
import { connectorErrors } from './errors.js';
import type { ConnectorIdentityFiles, IdentityStore } from './identity-store.js';

/** What the connector does after the edge refused a tunnel. */
export type Recovery =
  /** A new certificate or a new identity is stored: try it at once. */
  | { readonly action: 'retry'; readonly identity: ConnectorIdentityFiles }
  /** No retry can cure it: stop, reporting `error` (it says how to fix it). */
  | { readonly action: 'halt'; readonly error: Error }
  /** Report the refusal and try again later (transient, or not this class's business). */
  | { readonly action: 'report' };

/** What recovering needs. */
export interface IdentityRecoveryOptions {
  readonly store: IdentityStore;
  readonly logger: Logger;
  /** Enrolls with the provisioning key and stores the identity; undefined without a key. */
  readonly enroll: (() => Promise<ConnectorIdentityFiles>) | undefined;
  /** Milliseconds since the epoch; default Date.now (certificate times are wall-clock times). */
  readonly now?: (() => number) | undefined;
}

const REPORT: Recovery = { action: 'report' };

/**
 * Recovers an identity the edge refuses: a certificate that expired while offline is renewed
 * with proof of the old key (same connector id), else enrolled again with the provisioning key;
 * an ephemeral connector the edge removed enrolls again with the key. Refusals no retry can
 * cure (revoked, unknown, expired without a usable key, a key refused for good) halt. Tunnel
 * attempts that fail at the same time share one recovery.
 */
export class IdentityRecovery {
  readonly #o: IdentityRecoveryOptions;
  #pending: { identity: ConnectorIdentityFiles; outcome: Promise<Recovery> } | undefined;

  constructor(options: IdentityRecoveryOptions) {
    this.#o = options;
  }

  /** Decides how to go on after `refusal` of `identity` by the edge at `address`. */
  recover(identity: ConnectorIdentityFiles, refusal: Error, address: string): Promise<Recovery> {
    if (this.#pending?.identity === identity) return this.#pending.outcome;
    const expiredAt = expiredCertificate(refusal, identity.certPem, (this.#o.now ?? Date.now)());
    const removed = identity.ephemeral && isPosternError(refusal, 'POSTERN_ERR_CONNECTOR_UNKNOWN');
    if (!expiredAt && !removed)
      return Promise.resolve(isRevocation(refusal) ? { action: 'halt', error: refusal } : REPORT);
    const outcome = expiredAt
      ? this.#renewOrEnroll(identity, expiredAt, address)
      : this.#enrollAgain(
          identity,
          'the edge removed this ephemeral connector when it last stopped; enrolling again with the provisioning key',
          (err) => err ?? refusal,
        );
    const pending = { identity, outcome };
    this.#pending = pending;
    void outcome.finally(() => {
      if (this.#pending === pending) this.#pending = undefined;
    });
    return outcome;
  }

  async #renewOrEnroll(
    identity: ConnectorIdentityFiles,
    expiredAt: Date,
    address: string,
  ): Promise<Recovery> {
    const log = this.#o.logger;
    const id = identity.connectorId;
    try {
      // The edge of this attempt (an --edge override may differ from the key's address).
      const renewed = await renewExpiredCertificate({ ...identity, edgeAddress: address });
      const kept = { ...renewed, edgeAddress: identity.edgeAddress };
      await this.#o.store.save(kept);
      log.info(
        { connector: id, expiredAt: expiredAt.toISOString() },
        'certificate expired while offline; the edge renewed it (same connector id)',
      );
      return { action: 'retry', identity: kept };
    } catch (err) {
      const e = err as Error & { code?: string };
      if (isPosternError(e, 'POSTERN_ERR_EDGE_UNREACHABLE')) return REPORT;
      if (isRevocation(e)) return { action: 'halt', error: e };
      log.warn(
        { connector: id, code: e.code, err: e.message },
        'the edge did not renew the expired certificate',
      );
      if (!this.#o.enroll) {
        const because = `the edge did not renew it: ${e.message}`;
        return {
          action: 'halt',
          error: connectorErrors.certificateExpired(id, expiredAt, because, e),
        };
      }
      return this.#enrollAgain(
        identity,
        'certificate expired while offline; enrolling again with the provisioning key',
        (cause) =>
          connectorErrors.certificateExpired(
            id,
            expiredAt,
            cause && `enrolling again with the provisioning key failed: ${cause.message}`,
            cause,
          ),
      );
    }
  }

  /** Enrolls with the key; `halt` words the stop (called without an error when there is no key). */
  async #enrollAgain(
    identity: ConnectorIdentityFiles,
    why: string,
    halt: (enrollError?: Error) => Error,
  ): Promise<Recovery> {
    const log = this.#o.logger;
    if (!this.#o.enroll) return { action: 'halt', error: halt() };
    log.info({ connector: identity.connectorId }, why);
    try {
      return { action: 'retry', identity: await this.#o.enroll() };
    } catch (err) {
      const e = err as Error & { code?: string };
      log.error(
        { code: e.code, err: e.message },
        'enrolling again with the provisioning key failed',
      );
      return isPermanentEnrollmentError(e) ? { action: 'halt', error: halt(e) } : REPORT;
    }
  }
}
