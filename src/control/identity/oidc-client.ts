import http from 'node:http';
import https from 'node:https';
import * as oidc from 'openid-client';
import type { Logger } from 'pino';
import type { IdentityProvider } from '../../config/index.js';
import { systemClock, type Clock } from '../../core/index.js';
import { identityErrors } from './errors.js';
import type { UserIdentity } from './user-identity.js';

/** What one authorization request needs, kept until the callback. */
export interface AuthorizationChecks {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  readonly redirectUri: string;
}

/** How a discovered client behaves beyond its configuration. */
export interface OidcClientOptions {
  /** Where an ignored unverified email is reported (info); default none. */
  readonly logger?: Logger | undefined;
  /** Checks `auth_time`; default the system clock. */
  readonly clock?: Clock | undefined;
  /**
   * The longest time in seconds since the user last authenticated at the provider, sent as
   * `max_age` and checked against the ID token's `auth_time`; read at each login (the
   * configuration can change). Default, or when it returns undefined: neither.
   */
  readonly maxAgeSeconds?: (() => number | undefined) | undefined;
}

/**
 * Seconds an `auth_time` may exceed `max_age`: the provider judged its session at the
 * authorization request, the code is redeemed a little later, and clocks differ slightly.
 */
const AUTH_TIME_LEEWAY_S = 60;

/**
 * One OpenID Connect identity provider, discovered: builds authorization URLs (code flow with
 * PKCE, state and nonce) and turns a callback into a {@link UserIdentity} using the claim mapping.
 */
export class OidcClient {
  readonly #idp: IdentityProvider;
  readonly #config: oidc.Configuration;
  readonly #o: OidcClientOptions;

  private constructor(
    idp: IdentityProvider,
    config: oidc.Configuration,
    options: OidcClientOptions,
  ) {
    this.#idp = idp;
    this.#config = config;
    this.#o = options;
  }

  /** Reads the provider's discovery document; throws POSTERN_ERR_IDP_UNAVAILABLE when it cannot. */
  static async discover(
    idp: IdentityProvider,
    clientOptions: OidcClientOptions = {},
  ): Promise<OidcClient> {
    const issuer = new URL(idp.issuer);
    const execute: ((c: oidc.Configuration) => void)[] = [];
    // Plain http issuers are only for tests and labs: the schema allows http on loopback only,
    // and this makes openid-client accept it there.
    if (issuer.protocol === 'http:') execute.push(oidc.allowInsecureRequests);
    const options: oidc.DiscoveryRequestOptions = {
      execute,
      timeout: Math.ceil(idp.timeout_ms / 1000),
      ...(idp.ca === undefined ? {} : { [oidc.customFetch]: fetchTrusting(idp.ca) }),
    };
    try {
      const auth = idp.client_secret === undefined ? oidc.None() : undefined;
      const config = await oidc.discovery(issuer, idp.client_id, idp.client_secret, auth, options);
      return new OidcClient(idp, config, clientOptions);
    } catch (err) {
      throw identityErrors.idpUnavailable(idp.name, idp.issuer, err);
    }
  }

  /** Fresh state, nonce and PKCE verifier for one login. */
  static newChecks(redirectUri: string): AuthorizationChecks {
    return {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier: oidc.randomPKCECodeVerifier(),
      redirectUri,
    };
  }

  /**
   * The provider's authorization URL the browser is sent to; with `max_age` when a maximum
   * authentication age is set, so the provider asks for a login when its session is older.
   */
  async authorizationUrl(
    checks: AuthorizationChecks,
    options: { readonly freshLogin?: boolean } = {},
  ): Promise<URL> {
    const challenge = await oidc.calculatePKCECodeChallenge(checks.codeVerifier);
    const maxAge = this.#o.maxAgeSeconds?.();
    return oidc.buildAuthorizationUrl(this.#config, {
      redirect_uri: checks.redirectUri,
      scope: this.#idp.scopes.join(' '),
      response_type: 'code',
      state: checks.state,
      nonce: checks.nonce,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...(maxAge === undefined ? {} : { max_age: String(maxAge) }),
      // After a logout: the provider must ask again rather than reuse its own session.
      ...(options.freshLogin === true ? { prompt: 'login' } : {}),
    });
  }

  /** Whether the provider offers RP-initiated logout (an `end_session_endpoint`). */
  get hasEndSession(): boolean {
    return this.#config.serverMetadata().end_session_endpoint !== undefined;
  }

  /**
   * The provider's logout URL (RP-initiated logout, with `client_id`), or undefined when its
   * discovery document has no `end_session_endpoint`. `postLogoutRedirectUri` is sent only when
   * the provider's configuration says it is registered there (`post_logout_redirect`): an
   * unregistered one makes providers refuse the logout. `idTokenHint` (the login's ID token)
   * tells the provider whose session ends, so it need not ask the user to confirm.
   */
  endSessionUrl(
    options: {
      readonly postLogoutRedirectUri?: string | undefined;
      readonly idTokenHint?: string | undefined;
    } = {},
  ): URL | undefined {
    if (!this.hasEndSession) return undefined;
    const back =
      this.#idp.post_logout_redirect === true ? options.postLogoutRedirectUri : undefined;
    const hint = options.idTokenHint;
    return oidc.buildEndSessionUrl(this.#config, {
      client_id: this.#idp.client_id,
      ...(hint === undefined ? {} : { id_token_hint: hint }),
      ...(back === undefined ? {} : { post_logout_redirect_uri: back }),
    });
  }

  /**
   * Redeems the callback's code (checking state, nonce and the PKCE verifier) and maps the
   * claims, with `authTime` (the ID token's `auth_time` in ms) when the provider sent it, and
   * `idToken` (for the logout's `id_token_hint`) only when the provider has an
   * `end_session_endpoint` (it holds personal data: not kept where it is of no use); throws
   * POSTERN_ERR_LOGIN_FAILED when the provider refuses or the checks fail.
   */
  async redeem(
    query: URLSearchParams,
    checks: AuthorizationChecks,
  ): Promise<UserIdentity & { readonly authTime?: number; readonly idToken?: string }> {
    const current = new URL(checks.redirectUri);
    current.search = query.toString();
    try {
      const tokens = await oidc.authorizationCodeGrant(this.#config, current, {
        pkceCodeVerifier: checks.codeVerifier,
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        idTokenExpected: true,
      });
      const claims: Record<string, unknown> = { ...tokens.claims() };
      this.#checkAuthTime(claims['auth_time']);
      const mapping = this.#idp.claims;
      if (claims[mapping.email] === undefined || claims[mapping.groups] === undefined) {
        Object.assign(claims, await this.#userInfo(tokens.access_token, String(claims.sub)));
      }
      const authTime = claims['auth_time'];
      const identity = this.#identity(claims);
      const idToken = this.hasEndSession ? tokens.id_token : undefined;
      return {
        ...identity,
        ...(typeof authTime === 'number' && Number.isFinite(authTime)
          ? { authTime: authTime * 1000 }
          : {}),
        ...(idToken === undefined ? {} : { idToken }),
      };
    } catch (err) {
      throw identityErrors.loginFailed(this.#idp.name, describe(err), err);
    }
  }

  /**
   * Refuses an ID token whose `auth_time` is older than `max_age` allows, or missing although
   * `max_age` was sent (OpenID Connect Core 3.1.2.1 requires it then): the provider did not
   * make the user log in again.
   */
  #checkAuthTime(authTime: unknown): void {
    const maxAge = this.#o.maxAgeSeconds?.();
    if (maxAge === undefined) return;
    if (typeof authTime !== 'number' || !Number.isFinite(authTime)) {
      throw new Error(
        `the ID token has no auth_time although max_age=${maxAge} was requested; configure the provider to send the auth_time claim`,
      );
    }
    const ageS = Math.floor((this.#o.clock ?? systemClock).now() / 1000 - authTime);
    if (ageS > maxAge + AUTH_TIME_LEEWAY_S) {
      throw new Error(
        `the provider last authenticated the user ${ageS} s ago, longer than max_age=${maxAge} allows; it did not ask the user to log in again`,
      );
    }
  }

  async #userInfo(accessToken: string, subject: string): Promise<Record<string, unknown>> {
    if (this.#config.serverMetadata().userinfo_endpoint === undefined) return {};
    const info = await oidc.fetchUserInfo(this.#config, accessToken, subject);
    // The ID token stays authoritative for the subject; userinfo only fills missing claims.
    const { sub: _sub, ...rest } = info;
    return rest;
  }

  #identity(claims: Record<string, unknown>): UserIdentity {
    const mapping = this.#idp.claims;
    const email = this.#verifiedEmail(claims);
    const name = claims['name'];
    const groups = claims[mapping.groups];
    return {
      subject: String(claims['sub']),
      email: typeof email === 'string' ? email : undefined,
      name: typeof name === 'string' ? name : undefined,
      groups: Array.isArray(groups)
        ? groups.filter((g): g is string => typeof g === 'string')
        : typeof groups === 'string'
          ? [groups]
          : [],
      idp: this.#idp.name,
    };
  }

  /**
   * The email claim, unless the provider says it is not verified (`email_verified` false or
   * "false"): anyone may type an unverified address, so policies must not match it. A missing
   * `email_verified` keeps the email (many providers omit it for their own accounts).
   */
  #verifiedEmail(claims: Record<string, unknown>): unknown {
    const email = claims[this.#idp.claims.email];
    const verified = claims['email_verified'];
    const unverified =
      verified === false || (typeof verified === 'string' && verified.toLowerCase() === 'false');
    if (!unverified || email === undefined) return email;
    this.#o.logger?.info(
      { idp: this.#idp.name, subject: claims['sub'], email, email_verified: verified },
      'identity provider marked the email unverified; the user has no email',
    );
    return undefined;
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const detail = (err as { error_description?: unknown }).error_description;
    return typeof detail === 'string' ? `${err.message} (${detail})` : err.message;
  }
  return String(err);
}

/** A fetch for openid-client that trusts `ca` (PEM) in addition to nothing else. */
function fetchTrusting(ca: string): oidc.CustomFetch {
  return (url, options) =>
    new Promise<Response>((resolve, reject) => {
      const target = new URL(url);
      const headers = Object.fromEntries(
        new Headers(options.headers as ConstructorParameters<typeof Headers>[0]).entries(),
      );
      const send = target.protocol === 'https:' ? https.request : http.request;
      const req = send(
        target,
        { method: options.method ?? 'GET', headers, ca, signal: options.signal ?? undefined },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const status = res.statusCode ?? 502;
            const out = new Headers();
            for (const [k, v] of Object.entries(res.headers)) {
              for (const one of [v ?? []].flat()) out.append(k, one);
            }
            const body = status === 204 || status === 304 ? null : Buffer.concat(chunks);
            resolve(new Response(body, { status, headers: out }));
          });
        },
      );
      req.on('error', reject);
      // openid-client sends form bodies as URLSearchParams or strings.
      const body = options.body as string | URLSearchParams | null | undefined;
      req.end(body === undefined || body === null ? undefined : body.toString());
    });
}
