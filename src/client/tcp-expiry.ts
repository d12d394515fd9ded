// After its 200 answer the CONNECT tunnel carries only the application's bytes, so the edge has
// no way to say why it closed a session. The client holds the token, though: when the edge
// closes a session at the token's `exp`, the client can tell from the token itself.

/** Clock difference between this host and the edge still taken as "the login expired". */
const CLOCK_SKEW_MS = 30_000;

/** The close reason a client reports when the edge ended a session because the login expired. */
export const LOGIN_EXPIRED_REASON = 'token_expired';

/** The `exp` of a JWT in ms since the epoch, read without verifying (the edge verifies). */
export function tokenExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
    const exp = (claims as { exp?: unknown } | null)?.exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The expiry of `token` when a session the edge closed at `closedAt` (ms since the epoch) was cut
 * because the token expired: the edge ends sessions at `exp`, and clocks may differ by up to 30 s.
 * Undefined when the token has no `exp` or it is further away.
 */
export function expiredLoginAt(token: string, closedAt: number): number | undefined {
  const exp = tokenExpiry(token);
  return exp !== undefined && closedAt >= exp - CLOCK_SKEW_MS ? exp : undefined;
}

/** The one line telling the user the session ended with their login and how to log in again. */
export function loginExpiredMessage(edgeUrl: string, expiresAt: number): string {
  return (
    `postern tcp: the edge ended the session because your login expired ` +
    `(${new Date(expiresAt).toISOString()}); log in again: postern login --edge ${edgeUrl}`
  );
}
