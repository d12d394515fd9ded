import { createHmac, randomBytes, X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import { definedProps, type Clock } from '../core/index.js';
import {
  hashProvisioningSecret,
  enrollmentProof,
  sameSecretValue,
  verifyRenewalProof,
  type CertificateAuthority,
} from '../pki/index.js';
import { StoreErrors, type Store } from '../store/index.js';
import type {
  ConnectorStatusUpdate,
  EnrollmentAuthority,
  EnrollRequest,
  EnrollResult,
  RenewExpiredRequest,
} from './enrollment-authority.js';
import { controlErrors } from './errors.js';

/** Options of the enrollment service. */
export interface EnrollmentServiceOptions {
  readonly store: Store;
  readonly ca: CertificateAuthority;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Lifetime of connector certificates; default 24 h. */
  readonly certificateValidityMs?: number | undefined;
  /**
   * How long after its certificate expired a connector that was offline may still renew it
   * with proof of its key, rather than enroll again with a provisioning key. Default 30 days.
   */
  readonly expiredRenewalGraceMs?: number | undefined;
}

/** Default of {@link EnrollmentServiceOptions.expiredRenewalGraceMs}: 30 days. */
export const DEFAULT_EXPIRED_RENEWAL_GRACE_MS = 30 * 24 * 60 * 60_000;

/**
 * Enrollment and admission backed by the store and the edge CA: keys are checked and counted
 * atomically, certificates are short-lived, and a deleted connector is refused at once.
 */
export class EnrollmentService implements EnrollmentAuthority {
  readonly #o: EnrollmentServiceOptions;
  /** Makes a stand-in secret hash for key ids that do not exist (see #secretHashOf). */
  readonly #decoyKey = randomBytes(32);

  constructor(options: EnrollmentServiceOptions) {
    this.#o = options;
  }

  /**
   * The proof for a key id; an unknown id gets one made from a stand-in secret, so it is
   * answered like a known id with a wrong secret (the connector keeps its secret, the edge
   * refuses a secret sent anyway) and key ids cannot be told apart by the answer.
   */
  async edgeProof(keyId: string, exporter: Buffer): Promise<string> {
    return enrollmentProof(await this.#secretHashOf(keyId), exporter);
  }

  async enroll(request: EnrollRequest): Promise<EnrollResult> {
    const { store, ca, clock } = this.#o;
    const key = await store.provisioningKeys.get(request.keyId);
    // The secret first, the same way for unknown ids: a wrong one costs no CSR parsing, and
    // both are refused at the same step with the same error.
    const known = key?.secretHash ?? this.#decoyHash(request.keyId);
    if (!sameSecretValue(hashProvisioningSecret(request.secret), known) || !key)
      throw StoreErrors.keyUnknown(request.keyId);
    const connectorId = `c-${randomBytes(8).toString('hex')}`;
    // Issue first: a bad CSR must fail before the key's use is counted.
    const issued = await ca.issueClientCertificate(request.csrPem, {
      connectorId,
      group: key.group,
      ...this.#validity(),
    });
    const secretHash = hashProvisioningSecret(request.secret);
    await store.provisioningKeys.consume(request.keyId, {
      now: clock.now(),
      sourceIp: normalizeIp(request.sourceIp),
      check: (k) => {
        if (!sameSecretValue(secretHash, k.secretHash)) throw StoreErrors.keyUnknown(request.keyId);
      },
    });
    await store.connectors.create({
      id: connectorId,
      group: key.group,
      keyId: key.id,
      ephemeral: request.ephemeral,
      certSerial: issued.serialNumber,
      certNotAfter: issued.notAfter.getTime(),
    });
    await store.connectors.update(connectorId, {
      version: request.version,
      lastSeenAt: clock.now(),
      publicIp: normalizeIp(request.sourceIp),
    });
    return { connectorId, group: key.group, certPem: issued.certPem, caPem: ca.certPem };
  }

  async admit(connector: { connectorId: string; group: string }): Promise<void> {
    const record = await this.#o.store.connectors.get(connector.connectorId);
    if (!record || record.group !== connector.group)
      throw controlErrors.connectorUnknown(connector.connectorId);
    if (record.revoked) throw controlErrors.connectorDeleted(connector.connectorId);
  }

  async renew(connectorId: string, csrPem: string): Promise<string> {
    const record = await this.#o.store.connectors.get(connectorId);
    if (!record) throw controlErrors.connectorUnknown(connectorId);
    if (record.revoked) throw StoreErrors.connectorRevoked(connectorId);
    const issued = await this.#o.ca.issueClientCertificate(csrPem, {
      connectorId,
      group: record.group,
      ...this.#validity(),
    });
    await this.#o.store.connectors.update(connectorId, {
      certSerial: issued.serialNumber,
      certNotAfter: issued.notAfter.getTime(),
    });
    this.#o.logger.info(
      { connector: connectorId, serial: issued.serialNumber },
      'connector certificate renewed',
    );
    return issued.certPem;
  }

  async renewExpired(request: RenewExpiredRequest): Promise<{ certPem: string; caPem: string }> {
    const { connectorId } = request;
    const record = await this.#o.store.connectors.get(connectorId);
    if (!record) throw controlErrors.connectorUnknown(connectorId);
    if (record.revoked) throw controlErrors.connectorDeleted(connectorId);
    const refuse = (why: string) => controlErrors.renewalRefused(connectorId, why);
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(request.certPem);
    } catch {
      throw refuse('the certificate it sent cannot be read');
    }
    const ca = new X509Certificate(this.#o.ca.certPem);
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey))
      throw refuse('its certificate was not issued by this edge set');
    // Only the last certificate issued to this connector: an older one (its key may have leaked
    // since it was replaced) renews nothing.
    if (normalizeSerial(cert.serialNumber) !== normalizeSerial(record.certSerial ?? ''))
      throw refuse('its certificate is not the last one issued to it');
    const grace = this.#o.expiredRenewalGraceMs ?? DEFAULT_EXPIRED_RENEWAL_GRACE_MS;
    const expiredAt = Date.parse(cert.validTo);
    if (this.#o.clock.now() > expiredAt + grace) {
      throw refuse(`its certificate expired on ${cert.validTo}, more than ${spanOf(grace)} ago`);
    }
    if (!verifyRenewalProof(request.certPem, request.exporter, request.csrPem, request.proof))
      throw refuse("the proof of its key does not match the certificate's public key");
    const certPem = await this.renew(connectorId, request.csrPem);
    this.#o.logger.info(
      { connector: connectorId, expired: cert.validTo },
      'renewed a certificate that expired while the connector was offline',
    );
    return { certPem, caPem: this.#o.ca.certPem };
  }

  async recordSeen(connectorId: string, status: ConnectorStatusUpdate): Promise<void> {
    const { connected: _connected, hostname: _hostname, ...fields } = status;
    const update = Object.fromEntries(
      Object.entries(fields).filter(([, v]) => v !== undefined && v !== ''),
    );
    await this.#o.store.connectors.update(connectorId, {
      ...update,
      lastSeenAt: this.#o.clock.now(),
    });
  }

  async retireEphemeral(connectorId: string): Promise<void> {
    const record = await this.#o.store.connectors.get(connectorId);
    if (!record?.ephemeral) return;
    await this.#o.store.connectors.delete(connectorId);
    await this.#o.store.provisioningKeys.release(record.keyId).catch(() => undefined);
    this.#o.logger.info(
      { connector: connectorId, key: record.keyId },
      'ephemeral connector left; key use returned',
    );
  }

  async #secretHashOf(keyId: string): Promise<string> {
    const key = await this.#o.store.provisioningKeys.get(keyId);
    return key?.secretHash ?? this.#decoyHash(keyId);
  }

  /** A stand-in secret hash for an unknown key id: stable for the id, unguessable without #decoyKey. */
  #decoyHash(keyId: string): string {
    return createHmac('sha256', this.#decoyKey).update(keyId).digest('hex');
  }

  #validity(): { validityMs?: number; clock: Clock } {
    return {
      clock: this.#o.clock,
      ...definedProps({ validityMs: this.#o.certificateValidityMs }),
    };
  }
}

function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

/** A certificate serial in one spelling: upper-case hex without leading zeros. */
function normalizeSerial(serial: string): string {
  return serial.replace(/^0+/, '').toUpperCase();
}

/** A grace period in the largest whole unit that fits: `30 days`, `12 hours`, `300 ms`. */
function spanOf(ms: number): string {
  for (const [unit, size] of [
    ['day', 86_400_000],
    ['hour', 3_600_000],
    ['minute', 60_000],
    ['second', 1000],
  ] as const) {
    const n = Math.floor(ms / size);
    if (n >= 1) return `${n} ${unit}${n === 1 ? '' : 's'}`;
  }
  return `${ms} ms`;
}
