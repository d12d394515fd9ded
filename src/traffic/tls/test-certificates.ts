// Test support: self-signed certificates made at test time (traffic may not import src/pki).
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A PEM certificate and key. */
export interface TestKeyPair {
  readonly cert: string;
  readonly key: string;
}

/** Makes a self-signed ECDSA P-256 certificate for `commonName` with the given SAN DNS names. */
export async function makeCertificate(
  commonName: string,
  dnsNames: readonly string[],
): Promise<TestKeyPair> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(8)))
        .toString('hex')
        .replace(/^[89a-f]/, '1'),
      name: `CN=${commonName}`,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 86_400_000),
      keys,
      signingAlgorithm: ALG,
      extensions: dnsNames.length
        ? [
            new x509.SubjectAlternativeNameExtension(
              dnsNames.map((value) => ({ type: 'dns' as const, value })),
            ),
          ]
        : [],
    },
    webcrypto,
  );
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const b64 = pkcs8.toString('base64').replace(/.{64}/g, '$&\n');
  return {
    cert: cert.toString('pem'),
    key: `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n`,
  };
}
