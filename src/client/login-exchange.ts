import { createHash, randomBytes } from 'node:crypto';
import type { LoginAnswer } from './credentials.js';
import { postToEdge } from './edge-post.js';
import { clientErrors } from './errors.js';

/** Largest answer read from the edge. */

/** A PKCE pair (RFC 7636): the verifier stays in this process, the S256 challenge goes to the edge. */
export interface Pkce {
  readonly verifier: string;
  readonly challenge: string;
}

/** A fresh PKCE verifier (256 random bits) and its S256 challenge. */
export function newPkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/**
 * Exchanges the one-time code the browser brought to the loopback callback, with the PKCE
 * verifier only this process knows, for the user token: the token travels in this response's
 * body, never in a URL. The edge's certificate must verify (with `caPem` when given): the
 * verifier and the token must not go to anyone else.
 */
export async function exchangeLoginCode(
  edgeUrl: string,
  grant: { readonly code: string; readonly verifier: string },
  options: { readonly caPem?: string | undefined; readonly timeoutMs?: number } = {},
): Promise<LoginAnswer> {
  const url = new URL('/.postern/cli/login', edgeUrl);
  const form = new URLSearchParams({
    grant_type: 'authorization_code',
    code: grant.code,
    code_verifier: grant.verifier,
  }).toString();
  let answer: { status: number; body: unknown };
  try {
    answer = await postToEdge(url, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
      caPem: options.caPem,
      timeoutMs: options.timeoutMs,
    });
  } catch (err) {
    throw clientErrors.loginExchangeFailed(edgeUrl, (err as Error).message, err);
  }
  const b = (answer.body ?? {}) as Record<string, unknown>;
  if (answer.status === 200 && typeof b['token'] === 'string' && b['token'] !== '') {
    const expiresAt = Number(b['expires_at']);
    return {
      token: b['token'],
      expiresAt: Number.isFinite(expiresAt) ? expiresAt : 0,
      user: typeof b['user'] === 'string' ? b['user'] : undefined,
    };
  }
  const why =
    typeof b['error_description'] === 'string'
      ? `the edge refused the code: ${b['error_description']}`
      : `unexpected answer (HTTP ${answer.status})`;
  throw clientErrors.loginExchangeFailed(edgeUrl, why);
}
