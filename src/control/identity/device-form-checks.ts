import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** The parts of a request the form checks read (a DeviceRequest of the device pages). */
export interface FormRequest {
  readonly host: string | undefined;
  readonly headers: IncomingHttpHeaders;
  /** Whether the client reached the edge over TLS. */
  readonly secure: boolean;
}

/**
 * The per-form token of the approve and deny forms: an HMAC of the user code under the device
 * session cookie's secret, which only this browser holds.
 */
export function formToken(sessionSecret: string | undefined, userKey: string): string {
  return createHmac('sha256', sessionSecret ?? '')
    .update(`device-decision:${userKey}`)
    .digest('base64url');
}

/** Whether two form tokens are equal, compared in constant time. */
export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A decision sent from another site (the cookie is SameSite=Lax as well). */
export function crossSite(req: FormRequest): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined) return site !== 'same-origin' && site !== 'none';
  // These pages send Referrer-Policy: no-referrer, so browsers send `Origin: null` with the
  // form: then only the form token decides.
  const origin = req.headers.origin;
  if (origin === undefined || origin === 'null') return false;
  return origin !== `${req.secure ? 'https' : 'http'}://${req.host ?? ''}`;
}
