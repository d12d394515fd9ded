import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createCertificateAuthority,
  loadCertificateAuthority,
  type CertificateAuthority,
} from '../pki/index.js';
import { UserTokenAuthority, identityErrors } from '../control/index.js';
import type { Clock } from '../core/index.js';

/** Creates the data directory (mode 0700) if needed. */
export async function ensureDataDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

/** Loads the edge CA from the data dir, creating it on first start (private key mode 0600). */
export async function loadOrCreateCa(dir: string): Promise<CertificateAuthority> {
  const certPath = join(dir, 'ca.crt');
  const keyPath = join(dir, 'ca.key');
  let material: { certPem: string; keyPem: string };
  try {
    material = {
      certPem: await readFile(certPath, 'utf8'),
      keyPem: await readFile(keyPath, 'utf8'),
    };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    material = await createCertificateAuthority({ commonName: 'Postern edge CA' });
    await writeFile(keyPath, material.keyPem, { mode: 0o600, flag: 'wx' });
    await writeFile(certPath, material.certPem, { mode: 0o644, flag: 'wx' });
  }
  await chmod(keyPath, 0o600);
  return loadCertificateAuthority(material);
}

/** Records where the admin API listens, so admin commands given `--data-dir` can find it. */
export async function writeAdminUrl(dir: string, url: string): Promise<void> {
  await writeFile(join(dir, 'admin-url'), `${url}\n`, { mode: 0o644 });
}

/**
 * The admin token: the given one (POSTERN_ADMIN_TOKEN), else the one in `<dir>/admin-token`,
 * else a new random token written there with mode 0600.
 */
export async function loadOrCreateAdminToken(dir: string, given?: string): Promise<string> {
  if (given) return given;
  const path = join(dir, 'admin-token');
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = `pat_${randomBytes(32).toString('base64url')}`;
  await writeFile(path, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return token;
}

/** File name of the edge's user-token signing key inside the data dir. */
export const TOKEN_SIGNING_KEY_FILE = 'token-signing-key.pem';

/**
 * The PEM of the key that signs user tokens (`<dir>/token-signing-key.pem`), created (P-256,
 * mode 0600) on first start; every edge of an HA set must share the same file.
 */
export async function loadOrCreateTokenSigningKey(
  dir: string,
): Promise<{ pem: string; path: string }> {
  const path = join(dir, TOKEN_SIGNING_KEY_FILE);
  try {
    return { pem: await readFile(path, 'utf8'), path };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const pem = UserTokenAuthority.generatePem();
  try {
    await writeFile(path, pem, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Another edge sharing the directory created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      return { pem: await readFile(path, 'utf8'), path };
    }
    throw err;
  }
  return { pem, path };
}

/** The `iss` of user tokens when the edge is given none: stable across restarts and HA edges. */
export const DEFAULT_TOKEN_ISSUER = 'postern-edge';

/** The edge's user-token authority over `<dir>/token-signing-key.pem` (created on first start). */
export async function loadTokenAuthority(
  dir: string,
  options: {
    readonly issuer?: string | undefined;
    readonly clock?: Clock;
    /** `--token-signing-key`: this file (which must exist) instead of the data dir's. */
    readonly keyFile?: string | undefined;
  } = {},
): Promise<UserTokenAuthority> {
  const { pem, path } =
    options.keyFile === undefined
      ? await loadOrCreateTokenSigningKey(dir)
      : { pem: await readKeyFile(options.keyFile), path: options.keyFile };
  return UserTokenAuthority.fromPem(pem, {
    issuer: options.issuer ?? DEFAULT_TOKEN_ISSUER,
    source: path,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
}

async function readKeyFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw identityErrors.signingKeyInvalid(path, err);
  }
}
