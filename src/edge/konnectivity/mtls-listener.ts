import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type tls from 'node:tls';
import type { Logger } from 'pino';
import { konnectivityErrors } from './errors.js';

/** A server certificate and its key, PEM. */
export interface ServerKeyPair {
  readonly certPem: string;
  readonly keyPem: string;
}

/** The PEM material of the TCP listener: client CA bundle, server certificate and key. */
export interface MtlsContext {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** Where the TCP listener's TLS material comes from. */
export interface MtlsMaterialSource {
  /** CA bundle that client certificates must chain to (kube-apiserver's client certificate). */
  readonly clientCaFile: string;
  /** Server certificate and key files; when absent the edge CA issues one (see `issue`). */
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
  /** Issues a server certificate from the edge CA. */
  readonly issue: () => Promise<ServerKeyPair>;
}

/** TLS server options of the Konnectivity TCP listener: client certificate required and verified. */
export async function loadMtlsContext(
  source: MtlsMaterialSource,
  issued?: ServerKeyPair,
): Promise<MtlsContext> {
  const ca = await readPem(source.clientCaFile, 'client CA');
  const problem = caBundleProblem(ca);
  if (problem) throw konnectivityErrors.badOptions(`${source.clientCaFile} ${problem}`);
  const pair =
    source.certFile !== undefined && source.keyFile !== undefined
      ? {
          certPem: await readPem(source.certFile, 'server certificate'),
          keyPem: await readPem(source.keyFile, 'server key'),
        }
      : (issued ?? (await source.issue()));
  return { ca, cert: pair.certPem, key: pair.keyPem };
}

/**
 * Keeps the listener's TLS material fresh without a restart: files (client CA, and the server
 * pair when given) are re-read every `reloadMs` (default 60 s) and applied when they changed;
 * an issued server certificate is re-issued at two thirds of its life. Connections in flight
 * keep their session.
 */
export function keepMtlsFresh(
  server: tls.Server,
  source: MtlsMaterialSource,
  options: { current: MtlsContext; logger: Logger; reloadMs?: number },
): () => void {
  let current = options.current;
  let timer: NodeJS.Timeout;
  let stopped = false;
  const tick = (): void => {
    const issued =
      source.certFile === undefined && refreshDelay(current.cert) > 0
        ? { certPem: current.cert, keyPem: current.key }
        : undefined;
    loadMtlsContext(source, issued)
      .then(
        (next) => {
          const same =
            next.ca === current.ca && next.cert === current.cert && next.key === current.key;
          if (same || stopped) return;
          server.setSecureContext({ ...next });
          current = next;
          options.logger.info('konnectivity TLS material reloaded');
        },
        (err: unknown) =>
          options.logger.warn(
            { err: (err as Error).message },
            'konnectivity TLS reload failed; keeping the previous material',
          ),
      )
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, options.reloadMs ?? 60_000).unref();
      });
  };
  timer = setTimeout(tick, options.reloadMs ?? 60_000).unref();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** Why a CA bundle is unusable: no certificate in it, or a block that does not parse. */
function caBundleProblem(pem: string): string | undefined {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return 'holds no PEM certificate';
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (err) {
      return `holds a certificate that does not parse (${(err as Error).message})`;
    }
  }
  return undefined;
}

/** Time left until two thirds of the certificate's life have passed (negative: due now). */
function refreshDelay(certPem: string): number {
  const cert = new X509Certificate(certPem);
  const from = new Date(cert.validFrom).getTime();
  const to = new Date(cert.validTo).getTime();
  return from + ((to - from) * 2) / 3 - Date.now();
}

async function readPem(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw konnectivityErrors.badOptions(
      `the ${what} file ${path} cannot be read (${(err as Error).message})`,
    );
  }
}
