import { createHash, randomBytes } from 'node:crypto';
import { isPosternError } from '../../core/index.js';
import { OneTimeIds } from './cli-login-once.js';
import { sameToken } from './device-form-checks.js';
import type { UserIdentity } from './user-identity.js';
import { CLI_AUDIENCE, type UserTokenAuthority, type VerifiedToken } from './user-token.js';

/** Audience of the one-time codes the CLI login hands to the loopback callback. */
export const CLI_CODE_AUDIENCE = 'postern:cli-login-code';

/** A PKCE S256 code challenge (RFC 7636): 43 base64url characters. */
export const CODE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** A PKCE code verifier (RFC 7636 section 4.1). */
const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/** The S256 challenge of a PKCE verifier: base64url(SHA-256(verifier)). */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** The answer to a code exchange: the CLI's token, or an OAuth-style error. */
export type CodeExchange =
  | { readonly token: string; readonly expiresAt: number; readonly user: string }
  | { readonly error: 'invalid_request' | 'invalid_grant'; readonly description: string };

/** How the CLI login's codes are made. */
export interface CliLoginCodesOptions {
  readonly authority: UserTokenAuthority;
  /** Lifetime of a code (the edges' clock tolerance of 30 s comes on top); default 30 s. */
  readonly codeTtlMs?: number | undefined;
  /** Lifetime of the token a code is exchanged for; default 8 h. */
  readonly tokenTtlMs?: number | undefined;
  /** Where codes are marked usable once; default this process's memory (one edge). */
  readonly once?: OneTimeIds | undefined;
}

/**
 * The authorization codes of `postern login` (RFC 8252 with PKCE): the token never travels in a
 * URL. The loopback callback gets a short-lived code, signed by the edge's key (so any edge of
 * an HA set can redeem it) and bound to the S256 challenge the CLI sent at the start; the CLI
 * POSTs it with its verifier and gets the token in the response body. A code is good for one
 * exchange, with the right verifier, before it expires: on every edge sharing `once`'s store.
 */
export class CliLoginCodes {
  readonly #o: CliLoginCodesOptions;
  readonly #once: OneTimeIds;

  constructor(options: CliLoginCodesOptions) {
    this.#o = options;
    this.#once = options.once ?? new OneTimeIds();
  }

  /** Lifetime of the tokens the codes are exchanged for. */
  get tokenTtlMs(): number {
    return this.#o.tokenTtlMs ?? 8 * 3600_000;
  }

  /** A new code for `identity`, redeemable only with the verifier of `challenge`. */
  async issue(identity: UserIdentity, challenge: string): Promise<string> {
    const jti = randomBytes(16).toString('base64url');
    const { token, expiresAt } = await this.#o.authority.issue(identity, {
      audience: CLI_CODE_AUDIENCE,
      ttlMs: this.#o.codeTtlMs ?? 30_000,
      claims: { cc: challenge, jti },
    });
    await this.#once.issue(jti, expiresAt);
    return token;
  }

  /** Exchanges a code and its verifier for the CLI's token; the code is spent either way. */
  async redeem(code: string, verifier: string): Promise<CodeExchange> {
    if (!code || !CODE_VERIFIER.test(verifier)) {
      return { error: 'invalid_request', description: 'send code and code_verifier' };
    }
    let verified: VerifiedToken;
    try {
      verified = await this.#o.authority.verify(code, { audience: CLI_CODE_AUDIENCE });
    } catch (err) {
      if (!isPosternError(err)) throw err;
      return { error: 'invalid_grant', description: 'the code is invalid or expired' };
    }
    // Spent before the verifier is checked: a code seen by someone else is one guess, not many.
    const jti = verified.claims['jti'];
    if (typeof jti !== 'string' || !(await this.#once.use(jti))) {
      return { error: 'invalid_grant', description: 'the code was already used' };
    }
    const challenge = verified.claims['cc'];
    if (typeof challenge !== 'string' || !sameToken(s256(verifier), challenge)) {
      return { error: 'invalid_grant', description: 'the code_verifier does not match' };
    }
    const { token, expiresAt } = await this.#o.authority.issue(verified.identity, {
      audience: CLI_AUDIENCE,
      ttlMs: this.tokenTtlMs,
    });
    const user = verified.identity.email ?? verified.identity.subject;
    return { token, expiresAt, user };
  }
}
