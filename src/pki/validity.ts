import { CoreErrors } from '../core/index.js';
import { CLOCK_SKEW_MS } from './x509.js';

/** When a certificate starts and stops being valid. */
export interface ValidityWindow {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** Throws POSTERN_ERR_INVALID_ARGUMENT unless `ms` is a positive, finite duration. */
export function assertDuration(what: string, ms: number): void {
  if (!Number.isFinite(ms) || ms <= 0) {
    throw CoreErrors.invalidArgument(what, `expected a positive number of milliseconds, got ${ms}`);
  }
}

/**
 * The validity of a certificate issued at `nowMs` for `validityMs`: it starts CLOCK_SKEW_MS early
 * so peers with slow clocks accept it, never outlives `limit` (the issuer), and is truncated to
 * whole seconds because X.509 times carry no fractions — so the returned dates are exactly the
 * ones written into the certificate.
 */
export function validityWindow(nowMs: number, validityMs: number, limit?: Date): ValidityWindow {
  const notBefore = floorToSecond(nowMs - CLOCK_SKEW_MS);
  let notAfter = floorToSecond(nowMs + validityMs);
  if (limit !== undefined && notAfter > limit.getTime()) notAfter = floorToSecond(limit.getTime());
  return { notBefore: new Date(notBefore), notAfter: new Date(notAfter) };
}

function floorToSecond(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}
