import { parseCertificate, type CertificateInput } from './certificate-input.js';
import type { ValidityWindow } from './validity.js';

/** Share of a certificate's lifetime after which its holder should renew it. */
export const RENEWAL_FRACTION = 2 / 3;

/** The moment a certificate should be renewed: two thirds of the way through its lifetime. */
export function renewalTime(validity: ValidityWindow): Date {
  const start = validity.notBefore.getTime();
  const lifetime = validity.notAfter.getTime() - start;
  return new Date(start + Math.floor(lifetime * RENEWAL_FRACTION));
}

/** True when `now` (ms since the epoch, or a Date) is at or past the certificate's renewal time. */
export function needsRenewal(cert: CertificateInput | ValidityWindow, now: number | Date): boolean {
  const validity = isValidityWindow(cert) ? cert : parseCertificate(cert);
  const at = typeof now === 'number' ? now : now.getTime();
  return at >= renewalTime(validity).getTime();
}

function isValidityWindow(value: CertificateInput | ValidityWindow): value is ValidityWindow {
  return (
    typeof value === 'object' &&
    !(value instanceof Uint8Array) &&
    'notBefore' in value &&
    value.notBefore instanceof Date &&
    'notAfter' in value &&
    value.notAfter instanceof Date
  );
}
