import { createPrivateKey, sign, verify, X509Certificate } from 'node:crypto';

// What the connector signs: a fixed context, this TLS session's exporter value (so a captured
// proof cannot be replayed on another connection) and the CSR it asks to have signed.
function signedData(exporter: Buffer, csrPem: string): Buffer {
  return Buffer.concat([
    Buffer.from('postern-renew-expired\0', 'utf8'),
    exporter,
    Buffer.from(csrPem, 'utf8'),
  ]);
}

/**
 * The connector's proof that it holds the private key of its (possibly expired) certificate:
 * an ECDSA signature with that key over this TLS session's exporter value and the new CSR.
 */
export function renewalProof(keyPem: string, exporter: Buffer, csrPem: string): string {
  const key = createPrivateKey(keyPem);
  return sign('sha256', signedData(exporter, csrPem), key).toString('base64url');
}

/** True when `proof` was made with the private key of `certPem` for this session and CSR. */
export function verifyRenewalProof(
  certPem: string,
  exporter: Buffer,
  csrPem: string,
  proof: string,
): boolean {
  try {
    const cert = new X509Certificate(certPem);
    return verify(
      'sha256',
      signedData(exporter, csrPem),
      cert.publicKey,
      Buffer.from(proof, 'base64url'),
    );
  } catch {
    return false;
  }
}
