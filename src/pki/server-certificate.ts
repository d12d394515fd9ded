import { systemClock, type Clock } from '../core/index.js';
import { PkiErrors } from './errors.js';
import { assertIssuerValid, signLeaf, type Issuer } from './issuer.js';
import { generateP256KeyPair, privateKeyToPem } from './keys.js';
import { assertDnsName, assertIpAddress } from './names.js';
import { assertDuration, validityWindow } from './validity.js';
import { x509 } from './x509.js';

/** Default lifetime of an edge's TLS server certificate: 90 days. */
export const DEFAULT_SERVER_VALIDITY_MS = 90 * 24 * 60 * 60_000;

/** Options for issuing the edge's own TLS server certificate; at least one name is required. */
export interface ServerCertificateOptions {
  /** DNS SANs; default none. */
  readonly dnsNames?: readonly string[];
  /** IP SANs (IPv4 or IPv6 literals); default none. */
  readonly ipAddresses?: readonly string[];
  /** Subject CN; default the first DNS name, else the first IP address. */
  readonly commonName?: string;
  /** Lifetime from now; default 90 days, cut at the CA's own expiry. */
  readonly validityMs?: number;
  /** Source of "now"; default the CA's clock. */
  readonly clock?: Pick<Clock, 'now'>;
}

/** A server certificate with the fresh key it certifies. */
export interface IssuedServerCertificate {
  readonly certPem: string;
  /** PKCS#8 PEM ("PRIVATE KEY"). */
  readonly keyPem: string;
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** Generates a key and issues a serverAuth certificate for the given DNS names and addresses. */
export async function issueServerCertificate(
  issuer: Issuer,
  options: ServerCertificateOptions,
): Promise<IssuedServerCertificate> {
  const dnsNames = options.dnsNames ?? [];
  const ipAddresses = options.ipAddresses ?? [];
  dnsNames.forEach(assertDnsName);
  ipAddresses.forEach(assertIpAddress);
  const commonName = options.commonName ?? dnsNames[0] ?? ipAddresses[0];
  if (commonName === undefined) {
    throw PkiErrors.nameInvalid(
      'server certificate names',
      '',
      'give at least one DNS name or IP address',
    );
  }
  const validityMs = options.validityMs ?? DEFAULT_SERVER_VALIDITY_MS;
  assertDuration('validityMs', validityMs);
  const now = (options.clock ?? systemClock).now();
  assertIssuerValid(issuer, now);
  const keys = await generateP256KeyPair();
  const cert = await signLeaf(issuer, {
    subject: [{ CN: [commonName] }],
    publicKey: keys.publicKey,
    validity: validityWindow(now, validityMs, issuer.validity.notAfter),
    keyUsage: x509.KeyUsageFlags.digitalSignature,
    extendedKeyUsage: x509.ExtendedKeyUsage.serverAuth,
    subjectAltNames: [
      ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
      ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
    ],
  });
  return {
    certPem: cert.toString('pem'),
    keyPem: await privateKeyToPem(keys.privateKey),
    serialNumber: cert.serialNumber.toLowerCase(),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
  };
}
