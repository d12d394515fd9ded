import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The stored form of a provisioning key's secret: SHA-256, hex. Secrets are 32 random bytes,
 * so a fast hash is enough; the secret itself is never stored.
 */
export function hashProvisioningSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/**
 * The edge's proof that it knows a key, bound to one TLS session through its exporter value.
 * A connector checks it before sending the secret, so the secret never reaches a server that
 * merely answers on the edge's address.
 */
export function enrollmentProof(secretHash: string, exporter: Buffer): string {
  return createHmac('sha256', Buffer.from(secretHash, 'hex'))
    .update('postern-enroll-edge-proof\0')
    .update(exporter)
    .digest('base64url');
}

/** Constant-time comparison of two proofs or hashes. */
export function sameSecretValue(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
