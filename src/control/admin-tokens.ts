import { createHash, randomBytes } from 'node:crypto';
import { definedProps } from '../core/index.js';
import type { AdminRole, AdminTokenRecord, Store } from '../store/index.js';

/** Prefix of every stored admin token's value: `pt1.<id>.<secret>`. */
const PREFIX = 'pt1';

/** The hash stored for a token's secret (SHA-256: the secret is 256 random bits). */
export function hashTokenSecret(secret: string): string {
  return `sha256:${createHash('sha256').update(secret).digest('hex')}`;
}

/** Splits a presented token into id and secret, or undefined when it is not a stored token's. */
export function parseAdminToken(value: string): { id: string; secret: string } | undefined {
  const parts = value.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX || !parts[1] || !parts[2]) return undefined;
  return { id: parts[1], secret: parts[2] };
}

/** Options for a new admin token. */
export interface NewTokenOptions {
  readonly name: string;
  readonly role: AdminRole;
  /** Epoch ms after which the token is refused; default never. */
  readonly expiresAt?: number | undefined;
}

/**
 * Creates an admin token: a random id and 256-bit secret; only the secret's hash is stored and
 * the full value is returned this once.
 */
export async function createAdminToken(
  store: Store,
  options: NewTokenOptions,
): Promise<{ record: AdminTokenRecord; value: string }> {
  const id = `t${randomBytes(6).toString('hex')}`;
  const secret = randomBytes(32).toString('base64url');
  const record = await store.adminTokens.create({
    id,
    name: options.name,
    role: options.role,
    secretHash: hashTokenSecret(secret),
    ...definedProps({ expiresAt: options.expiresAt }),
  });
  return { record, value: `${PREFIX}.${id}.${secret}` };
}
