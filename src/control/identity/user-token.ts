import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import {
  SignJWT,
  calculateJwkThumbprint,
  errors as joseErrors,
  exportJWK,
  jwtVerify,
  type JWK,
} from 'jose';
import { systemClock, type Clock } from '../../core/index.js';
import { identityErrors } from './errors.js';
import type { UserIdentity } from './user-identity.js';

/** Audience of tokens that `postern login` stores and `postern tcp` presents to the access proxy. */
export const CLI_AUDIENCE = 'postern:cli';

/** A verified token: who it names and when it stops being accepted. */
export interface VerifiedToken {
  readonly identity: UserIdentity;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
  readonly issuedAt: number;
  /** Every claim of the token, for callers that added their own (e.g. an admin `role`). */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** How a {@link UserTokenAuthority} signs and checks tokens. */
export interface UserTokenAuthorityOptions {
  /** The `iss` of every token; usually the edge's public URL. */
  readonly issuer: string;
  readonly clock?: Clock;
  /** Accepted clock difference when checking `exp`/`iat`; default 30 s. */
  readonly clockToleranceMs?: number;
}

const ALGORITHM = 'ES256';

/**
 * Issues and verifies the edge's own signed tokens (ES256 JWTs): user tokens for the CLI and
 * identity assertions for applications. One P-256 key, published as a JWK set so applications
 * can verify assertions themselves; every edge of an HA set must load the same key.
 */
export class UserTokenAuthority {
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;
  readonly #publicJwk: JWK;
  readonly #keyId: string;
  readonly #issuer: string;
  readonly #clock: Clock;
  readonly #toleranceMs: number;

  private constructor(privateKey: KeyObject, publicJwk: JWK, options: UserTokenAuthorityOptions) {
    this.#privateKey = privateKey;
    this.#publicKey = createPublicKey(privateKey);
    this.#publicJwk = publicJwk;
    this.#keyId = String(publicJwk.kid);
    this.#issuer = options.issuer;
    this.#clock = options.clock ?? systemClock;
    this.#toleranceMs = options.clockToleranceMs ?? 30_000;
  }

  /** An authority over a P-256 private key in PEM (PKCS#8 or SEC1); `source` names it in errors. */
  static async fromPem(
    pem: string,
    options: UserTokenAuthorityOptions & { readonly source?: string },
  ): Promise<UserTokenAuthority> {
    let key: KeyObject;
    try {
      key = createPrivateKey(pem);
    } catch (err) {
      throw identityErrors.signingKeyInvalid(options.source ?? 'the signing key', err);
    }
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw identityErrors.signingKeyInvalid(options.source ?? 'the signing key');
    }
    const jwk = await exportJWK(createPublicKey(key));
    const kid = await calculateJwkThumbprint(jwk);
    return new UserTokenAuthority(key, { ...jwk, kid, alg: ALGORITHM, use: 'sig' }, options);
  }

  /** A new random P-256 private key in PKCS#8 PEM, for a first start. */
  static generatePem(): string {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  }

  /** The public key set that verifies every token this authority signs. */
  jwks(): { keys: JWK[] } {
    return { keys: [{ ...this.#publicJwk }] };
  }

  /** Signs a token naming `identity` for `audience`, valid for `ttlMs`; extra claims are added as given. */
  async issue(
    identity: UserIdentity,
    options: {
      readonly audience: string;
      readonly ttlMs: number;
      readonly claims?: Readonly<Record<string, unknown>>;
    },
  ): Promise<{ token: string; expiresAt: number }> {
    const now = this.#clock.now();
    const iat = Math.floor(now / 1000);
    const exp = Math.floor((now + options.ttlMs) / 1000);
    const token = await new SignJWT({
      ...options.claims,
      email: identity.email,
      name: identity.name,
      groups: [...identity.groups],
      idp: identity.idp,
    })
      .setProtectedHeader({ alg: ALGORITHM, kid: this.#keyId, typ: 'JWT' })
      .setIssuer(this.#issuer)
      .setSubject(identity.subject)
      .setAudience(options.audience)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(this.#privateKey);
    return { token, expiresAt: exp * 1000 };
  }

  /**
   * A secret for another purpose, derived from the signing key (HMAC-SHA256 of `label` keyed with
   * the key's PKCS#8 bytes): every edge that loads the same key derives the same secret, and
   * different labels give unrelated secrets. Replacing the key replaces every derived secret.
   */
  derivedKey(label: string): Buffer {
    const der = this.#privateKey.export({ type: 'pkcs8', format: 'der' });
    return createHmac('sha256', der).update(label).digest();
  }

  /** Checks signature, issuer, audience and lifetime; throws POSTERN_ERR_TOKEN_* otherwise. */
  async verify(token: string, options: { readonly audience: string }): Promise<VerifiedToken> {
    if (!token) throw identityErrors.tokenMissing();
    try {
      const { payload } = await jwtVerify(token, this.#publicKey, {
        issuer: this.#issuer,
        audience: options.audience,
        algorithms: [ALGORITHM],
        currentDate: new Date(this.#clock.now()),
        clockTolerance: Math.round(this.#toleranceMs / 1000),
      });
      if (typeof payload.sub !== 'string' || typeof payload.idp !== 'string') {
        throw identityErrors.tokenInvalid('it names no subject or identity provider');
      }
      const groups = Array.isArray(payload.groups)
        ? payload.groups.filter((g): g is string => typeof g === 'string')
        : [];
      return {
        identity: {
          subject: payload.sub,
          email: typeof payload.email === 'string' ? payload.email : undefined,
          name: typeof payload.name === 'string' ? payload.name : undefined,
          groups,
          idp: payload.idp,
        },
        expiresAt: (payload.exp ?? 0) * 1000,
        issuedAt: (payload.iat ?? 0) * 1000,
        claims: payload,
      };
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) {
        const exp = typeof err.payload.exp === 'number' ? err.payload.exp * 1000 : 0;
        throw identityErrors.tokenExpired(exp);
      }
      if (err instanceof joseErrors.JOSEError) throw identityErrors.tokenInvalid(err.message, err);
      throw err;
    }
  }
}
