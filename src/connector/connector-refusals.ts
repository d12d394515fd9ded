import { X509Certificate } from 'node:crypto';

/** Refusals that no retry can cure: the identity itself is gone. */
const REVOCATION_CODES = new Set([
  'POSTERN_ERR_CONNECTOR_REVOKED',
  'POSTERN_ERR_CONNECTOR_UNKNOWN',
]);

/**
 * Enrollment refusals that retrying with the same key cannot cure: the key is used up,
 * revoked, expired, deleted, or not a key of this edge. A disabled key or a source address the
 * key does not allow may be fixed by an administrator meanwhile, so those are retried.
 */
const PERMANENT_ENROLLMENT_CODES = new Set([
  'POSTERN_ERR_KEY_EXHAUSTED',
  'POSTERN_ERR_KEY_REVOKED',
  'POSTERN_ERR_KEY_EXPIRED',
  'POSTERN_ERR_KEY_UNKNOWN',
  'POSTERN_ERR_KEY_MALFORMED',
  'POSTERN_ERR_EDGE_UNVERIFIED',
  'POSTERN_ERR_NO_PROVISIONING_KEY',
]);

function codeOf(err: unknown): string {
  return (err as { code?: unknown } | undefined)?.code === undefined
    ? ''
    : String((err as { code: unknown }).code);
}

/** True when the edge says this connector was deleted or is not known. */
export function isRevocation(err: unknown): boolean {
  return REVOCATION_CODES.has(codeOf(err));
}

/** True when enrolling again with the same provisioning key cannot succeed. */
export function isPermanentEnrollmentError(err: unknown): boolean {
  return PERMANENT_ENROLLMENT_CODES.has(codeOf(err));
}

/**
 * When the edge refused the client certificate because it expired, the time it expired; the
 * local clock decides, and the edge's own verdict (CERT_HAS_EXPIRED) counts too when the clocks
 * disagree.
 */
export function expiredCertificate(err: unknown, certPem: string, now: number): Date | undefined {
  if (codeOf(err) !== 'POSTERN_ERR_TUNNEL_CERT_REJECTED') return undefined;
  const notAfter = new Date(new X509Certificate(certPem).validTo);
  const expired = notAfter.getTime() <= now || (err as Error).message.includes('CERT_HAS_EXPIRED');
  return expired ? notAfter : undefined;
}
