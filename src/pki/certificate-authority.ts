import { CoreErrors, systemClock, type Clock } from '../core/index.js';
import { parseCertificate } from './certificate-input.js';
import {
  issueClientCertificate,
  type ClientCertificateOptions,
  type IssuedClientCertificate,
} from './client-certificate.js';
import { PkiErrors } from './errors.js';
import { certificateFingerprint } from './fingerprint.js';
import type { Issuer } from './issuer.js';
import {
  assertKeyMatchesCertificate,
  generateP256KeyPair,
  parsePrivateKeyPem,
  privateKeyToPem,
  toSigningKey,
} from './keys.js';
import { randomSerialNumber } from './serial-number.js';
import {
  issueServerCertificate,
  type IssuedServerCertificate,
  type ServerCertificateOptions,
} from './server-certificate.js';
import { validityWindow } from './validity.js';
import { ECDSA_P256, webCrypto, x509 } from './x509.js';

/** Options for {@link createCertificateAuthority}. */
export interface CreateCaOptions {
  /** Subject CN; default 'Postern CA'. */
  readonly commonName?: string;
  /** Lifetime in days; default 3650. */
  readonly validityDays?: number;
  /** Source of "now"; default the system clock. */
  readonly clock?: Pick<Clock, 'now'>;
}

/** A CA certificate and its private key, both PEM, for the caller to store. */
export interface CaMaterial {
  readonly certPem: string;
  /** PKCS#8 PEM ("PRIVATE KEY"); keep it secret. */
  readonly keyPem: string;
}

/** Options for {@link loadCertificateAuthority}. */
export interface LoadCaOptions extends CaMaterial {
  /** Default source of "now" for issuance; default the system clock. */
  readonly clock?: Pick<Clock, 'now'>;
}

/** Creates a self-signed ECDSA P-256 CA: CA:TRUE pathLen 0, keyCertSign|cRLSign, SKI. */
export async function createCertificateAuthority(
  options: CreateCaOptions = {},
): Promise<CaMaterial> {
  const validityDays = options.validityDays ?? 3650;
  if (!Number.isInteger(validityDays) || validityDays <= 0) {
    throw CoreErrors.invalidArgument(
      'validityDays',
      `expected a positive whole number, got ${validityDays}`,
    );
  }
  const keys = await generateP256KeyPair();
  const validity = validityWindow((options.clock ?? systemClock).now(), validityDays * 86_400_000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerialNumber(),
      name: [{ CN: [options.commonName ?? 'Postern CA'] }],
      notBefore: validity.notBefore,
      notAfter: validity.notAfter,
      keys,
      signingAlgorithm: ECDSA_P256,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webCrypto),
      ],
    },
    webCrypto,
  );
  return { certPem: cert.toString('pem'), keyPem: await privateKeyToPem(keys.privateKey) };
}

/**
 * Loads a CA from PEM after checking that it is a CA, that the key is P-256 and that the key
 * belongs to the certificate. The returned object issues certificates.
 */
export async function loadCertificateAuthority(
  options: LoadCaOptions,
): Promise<CertificateAuthority> {
  const cert = parseCertificate(options.certPem, 'CA certificate');
  assertIsCa(cert);
  const key = parsePrivateKeyPem(options.keyPem, 'CA private key');
  assertKeyMatchesCertificate(cert, key);
  const issuer: Issuer = {
    name: cert.subjectName,
    signingKey: await toSigningKey(key),
    authorityKeyIdentifier: await authorityKeyIdentifier(cert),
    validity: { notBefore: cert.notBefore, notAfter: cert.notAfter },
  };
  return new CertificateAuthority(cert, issuer, options.clock ?? systemClock);
}

/** A loaded CA that issues connector client certificates and edge server certificates. */
export class CertificateAuthority {
  /** The CA certificate as PEM, for peers' trust stores. */
  readonly certPem: string;
  /** SHA-256 of the CA certificate's DER, lower-case hex; pin it in provisioning keys. */
  readonly fingerprint: string;
  /** The CA's subject as an RFC 4514 string. */
  readonly subject: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly #issuer: Issuer;
  readonly #clock: Pick<Clock, 'now'>;

  /** Use {@link loadCertificateAuthority}; it validates what this constructor trusts. */
  constructor(cert: x509.X509Certificate, issuer: Issuer, clock: Pick<Clock, 'now'>) {
    this.certPem = cert.toString('pem');
    this.fingerprint = certificateFingerprint(cert);
    this.subject = cert.subject;
    this.notBefore = cert.notBefore;
    this.notAfter = cert.notAfter;
    this.#issuer = issuer;
    this.#clock = clock;
  }

  /** Issues a clientAuth certificate for the CSR's key, naming only `options`' connector and group. */
  issueClientCertificate(
    csrPem: string,
    options: ClientCertificateOptions,
  ): Promise<IssuedClientCertificate> {
    return issueClientCertificate(this.#issuer, csrPem, {
      ...options,
      clock: options.clock ?? this.#clock,
    });
  }

  /** Generates a key and issues a serverAuth certificate for the edge's own listeners. */
  issueServerCertificate(options: ServerCertificateOptions): Promise<IssuedServerCertificate> {
    return issueServerCertificate(this.#issuer, {
      ...options,
      clock: options.clock ?? this.#clock,
    });
  }
}

function assertIsCa(cert: x509.X509Certificate): void {
  const constraints = cert.getExtension(x509.BasicConstraintsExtension);
  if (constraints === null || !constraints.ca) {
    throw PkiErrors.notCa(cert.subject, 'basicConstraints does not say CA:TRUE');
  }
  const usage = cert.getExtension(x509.KeyUsagesExtension);
  if (usage !== null && (usage.usages & x509.KeyUsageFlags.keyCertSign) === 0) {
    throw PkiErrors.notCa(cert.subject, 'keyUsage lacks keyCertSign');
  }
}

// Reuse the CA's own subjectKeyIdentifier so chains built by key id match exactly; compute one
// (SHA-1 of the public key, RFC 5280 §4.2.1.2) only when the CA certificate has none.
async function authorityKeyIdentifier(
  cert: x509.X509Certificate,
): Promise<x509.AuthorityKeyIdentifierExtension> {
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  if (ski !== null) return new x509.AuthorityKeyIdentifierExtension(ski.keyId);
  return x509.AuthorityKeyIdentifierExtension.create(cert.publicKey, false, webCrypto);
}
