import { createHash } from 'node:crypto';
import { certificateDer, type CertificateInput } from './certificate-input.js';

/** The SHA-256 of a certificate's DER as 64 lower-case hex digits (no colons), for pinning. */
export function certificateFingerprint(cert: CertificateInput): string {
  return createHash('sha256').update(certificateDer(cert)).digest('hex');
}
