import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../core/index.js';
import { sameSecretValue } from '../pki/index.js';
import type { AdminRole, Store } from '../store/index.js';
import { hashTokenSecret, parseAdminToken } from './admin-tokens.js';
import { requiredRole, roleAllows } from './admin-roles.js';
import { controlErrors } from './errors.js';
import { identityErrors, type AdminSignIn } from './identity/index.js';

/** Who makes an admin API request, as the audit log names them. */
export interface Principal {
  /**
   * `bootstrap` for the data dir's token, `token:<name>` for a stored one, `user:<email>` for a
   * console sign-in with the identity provider.
   */
  readonly actor: string;
  readonly role: AdminRole;
  readonly tokenId?: string;
  /** The signed-in user (email or subject) when the token came from an identity-provider sign-in. */
  readonly user?: string;
}

const principals = new WeakMap<FastifyRequest, Principal>();

/** The authenticated caller of a request (undefined before authentication or when refused). */
export function principalOf(req: FastifyRequest): Principal | undefined {
  return principals.get(req);
}

/** How tokens are checked. */
export interface AuthOptions {
  readonly store: Store;
  /** The bootstrap token from the data directory; always role admin. */
  readonly bootstrapToken: string;
  readonly clock: Clock;
  /** Verifies admin-API tokens from identity-provider sign-ins; absent: only admin tokens. */
  readonly adminUsers?: Pick<AdminSignIn, 'verify'> | undefined;
}

/** An edge-signed JWT (header.payload.signature, base64url), never a `pt1.` admin token. */
const JWT = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Resolves a bearer token to its principal; POSTERN_ERR_UNAUTHORIZED (401) when it is missing,
 * unknown, expired or revoked.
 */
export async function authenticate(
  header: string | undefined,
  options: AuthOptions,
): Promise<Principal> {
  const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : '';
  if (!token) throw controlErrors.unauthorized();
  if (sameSecretValue(token, options.bootstrapToken)) return { actor: 'bootstrap', role: 'admin' };
  if (options.adminUsers && JWT.test(token)) {
    const user = await options.adminUsers.verify(token);
    return { actor: user.actor, role: user.role, user: user.user };
  }
  const parsed = parseAdminToken(token);
  const record = parsed && (await options.store.adminTokens.get(parsed.id));
  if (!parsed || !record || !sameSecretValue(hashTokenSecret(parsed.secret), record.secretHash)) {
    throw controlErrors.unauthorized();
  }
  if (record.revoked) throw controlErrors.tokenRejected(`"${record.name}" has been revoked`);
  const now = options.clock.now();
  if (record.expiresAt !== undefined && record.expiresAt <= now) {
    throw controlErrors.tokenRejected(
      `"${record.name}" expired at ${new Date(record.expiresAt).toISOString()}`,
    );
  }
  // Recorded at most once a minute, so a busy client does not turn every read into a write.
  if (record.lastUsedAt === undefined || now - record.lastUsedAt >= 60_000) {
    await options.store.adminTokens.touch(record.id, now);
  }
  return { actor: `token:${record.name}`, role: record.role, tokenId: record.id };
}

/**
 * Adds authentication (401) and role checks (403, POSTERN_ERR_FORBIDDEN) to every route of
 * `api`; see admin-roles.ts for what each role may do.
 */
export function registerAuth(api: FastifyInstance, options: AuthOptions): void {
  api.addHook('onRequest', async (req) => {
    const principal = await authenticate(req.headers.authorization, options);
    principals.set(req, principal);
    const needed = requiredRole(req.method, req.routeOptions.url ?? req.url.split('?')[0] ?? '');
    if (!roleAllows(principal.role, needed)) {
      const what = `${req.method} ${req.routeOptions.url ?? req.url}`;
      throw principal.user === undefined
        ? controlErrors.forbidden(principal.role, needed, what)
        : identityErrors.adminUserForbidden(principal.user, principal.role, needed, what);
    }
  });
}
