// reflect-metadata must load before @peculiar/x509, whose DI container (tsyringe) needs it.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/** A PEM certificate and its PKCS#8 private key. */
export interface SelfSignedCert {
  cert: string;
  key: string;
}

/** Options for {@link createSelfSignedCert}; defaults suit a loopback test server. */
export interface SelfSignedCertOptions {
  /** Subject common name; default `localhost`. */
  commonName?: string;
  /** DNS names in the SAN; default `['localhost']`. */
  dnsNames?: readonly string[];
  /** IP addresses in the SAN; default `['127.0.0.1']`. */
  ipAddresses?: readonly string[];
  /** Validity in days from one hour ago; default 1. */
  days?: number;
}

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

// The project compiles without the DOM lib, so the library cannot name Node's WebCrypto
// type; registering it as the default provider avoids passing it through those types.
x509.cryptoProvider.set(webcrypto);

/** Generates a fresh ECDSA P-256 self-signed server certificate for tests and benchmarks. */
export async function createSelfSignedCert(
  options: SelfSignedCertOptions = {},
): Promise<SelfSignedCert> {
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const now = Date.now();
  const names = [
    ...(options.dnsNames ?? ['localhost']).map((value) => ({ type: 'dns' as const, value })),
    ...(options.ipAddresses ?? ['127.0.0.1']).map((value) => ({ type: 'ip' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex'),
    name: `CN=${options.commonName ?? 'localhost'}`,
    notBefore: new Date(now - 3_600_000),
    notAfter: new Date(now + (options.days ?? 1) * 86_400_000),
    signingAlgorithm: algorithm,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const key = x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
  return { cert: cert.toString('pem'), key };
}
