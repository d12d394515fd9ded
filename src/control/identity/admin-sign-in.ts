import type { Logger } from 'pino';
import type { AdminRole } from '../../store/index.js';
import { isAdminRole } from '../admin-roles.js';
import { htmlPage, escapeHtml, jsonResponse, redirect, type AuthResponse } from './auth-html.js';
import type { AuthPages, AuthRequest } from './auth-pages.js';
import { adminRoleFor, type AdminRoleMapping } from './admin-role-mapping.js';
import { identityErrors } from './errors.js';
import type { UserIdentity } from './user-identity.js';
import type { UserTokenAuthority } from './user-token.js';

/** Audience of the admin-API tokens the console gets from an identity-provider sign-in. */
export const ADMIN_AUDIENCE = 'postern:admin';

/** Paths of the console sign-in on the admin listener. */
export const ADMIN_SIGN_IN_PATHS = {
  /** GET: JSON `{ identity_provider: string | null }`, without a token (the sign-in page asks). */
  options: '/.postern/admin/sign-in',
  /** GET: sends the browser to the identity provider. */
  login: '/.postern/admin/login',
  /** GET: the provider's redirect back; redirect URI to register at the provider. */
  callback: '/.postern/admin/callback',
} as const;

/** Where the console picks the new token up: `/console/#admin_token=…` (fragments are not sent). */
const CONSOLE_RETURN = '/console/';

/** How administrators sign in with an identity provider. */
export interface AdminSignInOptions {
  /** The login machinery (BrowserAccess.pages): OIDC code flow with PKCE, state and nonce. */
  readonly pages: AuthPages;
  readonly authority: UserTokenAuthority;
  /** Name of the identity provider object administrators sign in with. */
  readonly identityProvider: string;
  readonly roles: AdminRoleMapping;
  /** Lifetime of the admin-API token; default 1 h. */
  readonly tokenTtlMs?: number | undefined;
  readonly logger?: Logger | undefined;
}

/** An administrator signed in through the identity provider, as a verified token names them. */
export interface AdminUser {
  /** `user:<email>` (or `user:<subject>` without email): the audit log's actor. */
  readonly actor: string;
  readonly role: AdminRole;
  readonly user: string;
  readonly expiresAt: number;
}

/**
 * Console sign-in with an identity provider: the OIDC login on the admin listener, the mapping
 * of the user's groups and email to an admin role, and the short-lived admin-API token (an ES256
 * JWT, audience `postern:admin`, `role` claim) the console sends as Bearer.
 */
export class AdminSignIn {
  readonly #o: AdminSignInOptions;

  constructor(options: AdminSignInOptions) {
    this.#o = options;
  }

  /** The provider's name, shown as "Sign in with <name>". */
  get identityProvider(): string {
    return this.#o.identityProvider;
  }

  /** Answers an admin sign-in path, or undefined when `req.target` is not one. */
  async respond(req: AuthRequest): Promise<AuthResponse | undefined> {
    const path = new URL(req.target, 'http://x').pathname;
    if (path === ADMIN_SIGN_IN_PATHS.options) {
      return jsonResponse(200, { identity_provider: this.#o.identityProvider });
    }
    if (path === ADMIN_SIGN_IN_PATHS.login) {
      return this.#o.pages.startAdminLogin(req, {
        identityProvider: this.#o.identityProvider,
        callbackPath: ADMIN_SIGN_IN_PATHS.callback,
      });
    }
    if (path === ADMIN_SIGN_IN_PATHS.callback) {
      return this.#o.pages.finishAdminLogin(req, (identity) => this.#signedIn(identity));
    }
    return undefined;
  }

  /** Checks an admin-API token this edge issued; throws POSTERN_ERR_UNAUTHORIZED otherwise. */
  async verify(token: string): Promise<AdminUser> {
    let verified;
    try {
      verified = await this.#o.authority.verify(token, { audience: ADMIN_AUDIENCE });
    } catch (err) {
      const why =
        (err as { code?: unknown }).code === 'POSTERN_ERR_TOKEN_EXPIRED'
          ? 'has expired'
          : 'is not valid on this edge';
      throw identityErrors.adminSessionRejected(why, err);
    }
    const role = verified.claims['role'];
    if (!isAdminRole(role)) throw identityErrors.adminSessionRejected('names no admin role');
    const user = userName(verified.identity);
    return { actor: `user:${user}`, role, user, expiresAt: verified.expiresAt };
  }

  async #signedIn(identity: UserIdentity): Promise<AuthResponse> {
    const role = adminRoleFor(identity, this.#o.roles);
    const user = userName(identity);
    if (role === undefined) {
      const refusal = identityErrors.adminSignInRefused(user, identity.groups);
      this.#o.logger?.warn({ user, groups: identity.groups }, 'console sign-in refused: no role');
      return htmlPage(403, 'Not an administrator of this edge', [
        `<code>${escapeHtml(refusal.code)}</code>: ${escapeHtml(refusal.message)}`,
        `<a href="${CONSOLE_RETURN}">Back to the console sign-in</a>`,
      ]);
    }
    const { token, expiresAt } = await this.#o.authority.issue(identity, {
      audience: ADMIN_AUDIENCE,
      ttlMs: this.#o.tokenTtlMs ?? 3600_000,
      claims: { role },
    });
    this.#o.logger?.info({ user, role }, 'console sign-in');
    const fragment = new URLSearchParams({
      admin_token: token,
      user,
      role,
      expires_at: String(expiresAt),
    });
    return redirect(`${CONSOLE_RETURN}#${fragment.toString()}`);
  }
}

function userName(identity: Pick<UserIdentity, 'email' | 'subject'>): string {
  return identity.email ?? identity.subject;
}

/** The 404 the admin listener answers when no identity-provider sign-in is configured. */
export function adminSignInUnavailablePage(): AuthResponse {
  const err = identityErrors.adminSignInUnavailable();
  return htmlPage(404, 'No identity-provider sign-in', [
    `<code>${escapeHtml(err.code)}</code>: ${escapeHtml(err.message)}`,
  ]);
}
