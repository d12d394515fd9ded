import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createCertificateAuthority,
  loadCertificateAuthority,
  type CertificateAuthority,
} from '../pki/index.js';

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
