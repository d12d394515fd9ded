import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Test support only (imported by *.test.ts): an independent reading of certificates by OpenSSL.

/** `openssl x509 -text` of a PEM certificate. */
export function opensslText(certPem: string): string {
  return execFileSync('openssl', ['x509', '-noout', '-text'], { input: certPem, encoding: 'utf8' });
}

/** Runs `openssl verify` of `certPem` against `caPem` for `purpose` at time `atMs` (default now). */
export function opensslVerify(
  caPem: string,
  certPem: string,
  purpose: 'sslclient' | 'sslserver',
  atMs?: number,
): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'postern-pki-'));
  try {
    writeFileSync(join(dir, 'ca.pem'), caPem);
    writeFileSync(join(dir, 'cert.pem'), certPem);
    const at = atMs === undefined ? [] : ['-attime', String(Math.floor(atMs / 1000))];
    const args = ['verify', ...at, '-CAfile', join(dir, 'ca.pem'), '-purpose', purpose];
    args.push(join(dir, 'cert.pem'));
    try {
      return {
        ok: true,
        output: execFileSync('openssl', args, { encoding: 'utf8', stdio: 'pipe' }),
      };
    } catch (err) {
      const failure = err as { stdout?: string; stderr?: string };
      return { ok: false, output: `${failure.stdout ?? ''}${failure.stderr ?? ''}` };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `openssl req -verify` of a PEM CSR: true when OpenSSL accepts its self-signature. */
export function opensslCsrVerifies(csrPem: string): boolean {
  try {
    execFileSync('openssl', ['req', '-noout', '-verify'], { input: csrPem, stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}
