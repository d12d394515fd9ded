import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CoreErrors } from '../../core/index.js';

/** Shortest bootstrap admin token the edge accepts: it carries the full admin role. */
export const MIN_ADMIN_TOKEN_LENGTH = 16;
/** Length below which the edge warns: the generated tokens are 47 characters. */
export const GOOD_ADMIN_TOKEN_LENGTH = 32;

/**
 * The bootstrap admin token given in POSTERN_ADMIN_TOKEN or a file, checked: unset or empty is
 * undefined (the edge then uses or creates `<data-dir>/admin-token`); shorter than 16 characters
 * is refused, since anyone who guesses it administers the edge. `source` names where it came
 * from in the error (default POSTERN_ADMIN_TOKEN).
 */
export function bootstrapAdminToken(
  value: string | undefined,
  source = 'POSTERN_ADMIN_TOKEN',
): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.trim().length < MIN_ADMIN_TOKEN_LENGTH) {
    throw CoreErrors.invalidArgument(
      source,
      `it has ${value.trim().length} characters; a bootstrap admin token needs at least ${MIN_ADMIN_TOKEN_LENGTH} (${GOOD_ADMIN_TOKEN_LENGTH} or more recommended). Make one with \`openssl rand -hex 32\`, or give none and the edge writes a random one to <data-dir>/admin-token.`,
    );
  }
  return value;
}

/** `host:port` of a listening socket, IPv6 in brackets. */
export function formatAddress(address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `${host}:${address.port}`;
}

/**
 * The edge's "ready" line: where the tunnel port listens (and the address keys carry, when it
 * differs), the admin URL, and where the admin token is.
 */
export function readyLine(o: {
  readonly tunnel: AddressInfo;
  readonly advertiseAddress: string;
  readonly adminUrl: string;
  readonly dataDir: string;
  /** Where the bootstrap admin token was given (POSTERN_ADMIN_TOKEN, a file); undefined: `<data-dir>/admin-token`. */
  readonly tokenSource: string | undefined;
}): string {
  const listening = formatAddress(o.tunnel);
  const same = o.advertiseAddress === listening || o.advertiseAddress === '';
  const advertised = same ? '' : ` (advertised as ${o.advertiseAddress})`;
  const token =
    o.tokenSource !== undefined
      ? `admin token from ${o.tokenSource}`
      : `token in ${join(o.dataDir, 'admin-token')}`;
  return `postern edge ready: tunnel ${listening}${advertised}, admin ${o.adminUrl} (${token})\n`;
}
