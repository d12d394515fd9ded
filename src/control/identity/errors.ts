import { PosternError } from '../../core/index.js';

/** Errors of user identity: tokens the edge issues and verifies. */
export const identityErrors = {
  tokenMissing: () =>
    new PosternError(
      'POSTERN_ERR_TOKEN_MISSING',
      'No access token was presented. Log in with `postern login --edge <url>` and try again.',
    ),
  tokenExpired: (expiredAt: number) =>
    new PosternError(
      'POSTERN_ERR_TOKEN_EXPIRED',
      `The access token expired at ${new Date(expiredAt).toISOString()}. Log in again with \`postern login --edge <url>\`.`,
    ),
  tokenInvalid: (why: string, cause?: unknown) =>
    new PosternError(
      'POSTERN_ERR_TOKEN_INVALID',
      `The access token is not valid here: ${why}. Log in again with \`postern login --edge <url>\`; if it persists, the edge's signing key changed or the token was made for another edge.`,
      { cause },
    ),
  signingKeyInvalid: (path: string, cause?: unknown) =>
    new PosternError(
      'POSTERN_ERR_SIGNING_KEY_INVALID',
      `The token signing key in ${path} is not a P-256 private key in PEM. Remove the file to let the edge create a new one (every issued token then stops working), or restore the right key.`,
      { cause },
    ),
  idpUnavailable: (name: string, issuer: string, cause?: unknown) =>
    new PosternError(
      'POSTERN_ERR_IDP_UNAVAILABLE',
      `The identity provider "${name}" (${issuer}) cannot be reached or its discovery document is not valid. Check the issuer URL, the edge's network access to it and, for a private CA, the identity provider's ca.`,
      { cause },
    ),
  loginFailed: (name: string, why: string, cause?: unknown) =>
    new PosternError(
      'POSTERN_ERR_LOGIN_FAILED',
      `Logging in at the identity provider "${name}" failed: ${why}. Start the login again; if it persists, check the client_id, client_secret and the redirect URI registered at the provider.`,
      { cause },
    ),
  idpUnknown: (name: string) =>
    new PosternError(
      'POSTERN_ERR_IDP_UNKNOWN',
      `There is no identity provider "${name}". Define it under identity_providers (or with the admin API at /api/v1/identity-providers), or name an existing one.`,
    ),
  adminRoleMappingInvalid: (spec: string, why: string) =>
    new PosternError(
      'POSTERN_ERR_ADMIN_ROLE_MAPPING_INVALID',
      `The admin role mapping "${spec}" is not valid: ${why}. Write comma-separated role=member pairs, e.g. \`--admin-role-groups admin=postern-admins,operator=ops,viewer=staff\` (a member with @ is a user's email).`,
    ),
  adminSignInUnavailable: () =>
    new PosternError(
      'POSTERN_ERR_ADMIN_SIGN_IN_UNAVAILABLE',
      'This edge offers no identity-provider sign-in for administrators. Sign in with an admin token, or start the edge with `--admin-identity-provider NAME` and `--admin-role-groups`.',
    ),
  adminSignInRefused: (user: string, groups: readonly string[]) =>
    new PosternError(
      'POSTERN_ERR_ADMIN_SIGN_IN_REFUSED',
      `${user} (groups: ${groups.length > 0 ? groups.join(', ') : 'none'}) signed in at the identity provider, but no admin role is mapped to this user or any of these groups. Ask an administrator to add you to a group named in \`--admin-role-groups\`, or sign in with an admin token.`,
    ),
  adminSessionRejected: (why: string, cause?: unknown) =>
    new PosternError(
      'POSTERN_ERR_UNAUTHORIZED',
      `The console sign-in ${why}. Sign in to the console again.`,
      { cause },
    ),
  adminUserForbidden: (user: string, role: string, needed: string, what: string) =>
    new PosternError(
      'POSTERN_ERR_FORBIDDEN',
      `You are signed in as ${user} with role "${role}" (from your identity-provider groups), which may not ${what}; it needs role "${needed}". Ask an administrator to add you to a group mapped to "${needed}" in \`--admin-role-groups\`.`,
    ),
  deviceLimitsUnavailable: (cause?: unknown) =>
    new PosternError(
      'POSTERN_ERR_DEVICE_LIMITS_UNAVAILABLE',
      "The edge cannot reach its store to count device login attempts, so it refuses them rather than count on this edge alone. Try again in a minute; if it persists, check the edge's store (its logs and `postern edge --store`).",
      { cause },
    ),
} as const;
