// Test support: self-signed P-256 certificates made with openssl, synchronously, cached per
// subject and alternative names. No production code imports it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cache = new Map<string, { key: string; cert: string }>();

/** A self-signed certificate valid for a day, e.g. (`/CN=localhost`, `DNS:localhost`). */
export function opensslSelfSigned(
  subject: string,
  subjectAltName: string,
): { key: string; cert: string } {
  const id = `${subject}|${subjectAltName}`;
  const hit = cache.get(id);
  if (hit !== undefined) return hit;
  const dir = mkdtempSync(join(tmpdir(), 'postern-test-cert-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        subject,
        '-addext',
        `subjectAltName=${subjectAltName}`,
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    const pair = { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
    cache.set(id, pair);
    return pair;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
