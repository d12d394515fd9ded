import { systemClock, type Clock } from '../core/index.js';
import { readCertificateRequest } from './csr.js';
import { assertIssuerValid, signLeaf, type Issuer } from './issuer.js';
import { assertConnectorName, connectorUri, groupUri } from './names.js';
import { assertDuration, validityWindow } from './validity.js';
import { x509 } from './x509.js';

/** Default lifetime of a connector certificate: 24 hours (it renews at two thirds). */
export const DEFAULT_CLIENT_VALIDITY_MS = 24 * 60 * 60_000;

/** Options for issuing a connector's client certificate. */
export interface ClientCertificateOptions {
  /** Connector id, placed in the CN and in `urn:postern:connector:<id>`. */
  readonly connectorId: string;
  /** Connector group, placed in `urn:postern:group:<group>`. */
  readonly group: string;
  /** Lifetime from now; default 24 h, cut at the CA's own expiry. */
  readonly validityMs?: number;
  /** Source of "now"; default the CA's clock. */
  readonly clock?: Pick<Clock, 'now'>;
}

/** A signed client certificate and the facts a store keeps about it. */
export interface IssuedClientCertificate {
  readonly certPem: string;
  /** Lower-case hex. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/**
 * Issues a TLS client certificate for the key in `csrPem`. Only the CSR's public key is used:
 * the names come from `options`, so a connector cannot ask for another identity.
 */
export async function issueClientCertificate(
  issuer: Issuer,
  csrPem: string,
  options: ClientCertificateOptions,
): Promise<IssuedClientCertificate> {
  assertConnectorName('connector id', options.connectorId);
  assertConnectorName('group', options.group);
  const validityMs = options.validityMs ?? DEFAULT_CLIENT_VALIDITY_MS;
  assertDuration('validityMs', validityMs);
  const now = (options.clock ?? systemClock).now();
  assertIssuerValid(issuer, now);
  const csr = await readCertificateRequest(csrPem);
  const validity = validityWindow(now, validityMs, issuer.validity.notAfter);
  const cert = await signLeaf(issuer, {
    subject: [{ CN: [options.connectorId] }],
    publicKey: csr.publicKey,
    validity,
    keyUsage: x509.KeyUsageFlags.digitalSignature,
    extendedKeyUsage: x509.ExtendedKeyUsage.clientAuth,
    subjectAltNames: [
      { type: 'url', value: connectorUri(options.connectorId) },
      { type: 'url', value: groupUri(options.group) },
    ],
  });
  return {
    certPem: cert.toString('pem'),
    serialNumber: cert.serialNumber.toLowerCase(),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
  };
}
