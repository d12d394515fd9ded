import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Configuration } from '../config/index.js';
import type { ActivityLog, UserTokenAuthority } from '../control/index.js';
import { PosternError, type Clock } from '../core/index.js';
import type { CertificateAuthority } from '../pki/index.js';
import { splitHostPort, type Dialer } from '../traffic/index.js';
import { AccessAuthorizer, type RevocationCheck } from './access-authorizer.js';
import { AccessProxy, type AccessHttpHook } from './access-proxy.js';
import { accessSessionMetrics } from './access-session-metrics.js';
import type { EdgeMetrics } from './edge-metrics.js';

/** How the edge offers its access proxy (`--access-listen`); off unless `listen` is given. */
export interface AccessListenOptions {
  /** `host:port` of the TLS listener, e.g. 0.0.0.0:8444. */
  readonly listen: string;
  /** PEM files of the listener's certificate and key; default a certificate from the edge CA. */
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
  /** The URL users give `postern login --edge`; default https://<listen address>. */
  readonly publicUrl?: string | undefined;
  /** Extra names for the edge-CA certificate (the public host is added by itself). */
  readonly names?: readonly string[] | undefined;
  /** Bound on a connector's dial of the application; default 10 s. */
  readonly dialTimeoutMs?: number | undefined;
  /** Bound on a request head; default 10 s. */
  readonly headTimeoutMs?: number | undefined;
  /** Serves non-CONNECT requests (browser login pages). */
  readonly onHttpRequest?: AccessHttpHook | undefined;
}

/** What the access proxy needs from the running edge. */
export interface AccessParts {
  readonly ca: CertificateAuthority;
  readonly tokens: UserTokenAuthority;
  readonly activity: ActivityLog;
  readonly dialer: Dialer;
  readonly config: () => Configuration;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Admins' per-user revocations: tokens issued before one are refused, open sessions cut. */
  readonly revocations?: RevocationCheck | undefined;
  /** The edge's metrics, where the proxy's sessions are counted. */
  readonly metrics: EdgeMetrics;
}

/** Starts the access proxy on its address; resolves once it listens. */
export async function startAccessProxy(
  options: AccessListenOptions,
  parts: AccessParts,
): Promise<{ proxy: AccessProxy; address: AddressInfo; url: string }> {
  const at = splitHostPort(options.listen, { allowZero: true });
  if (!at) {
    throw new PosternError(
      'POSTERN_ERR_INVALID_ARGUMENT',
      `--access-listen "${options.listen}" is not host:port; use e.g. 0.0.0.0:8444.`,
    );
  }
  const { certPem, keyPem } = await accessCertificate(options, at.host, parts.ca);
  const proxy = new AccessProxy({
    authorizer: new AccessAuthorizer({
      tokens: parts.tokens,
      config: parts.config,
      revocations: parts.revocations,
    }),
    dialer: parts.dialer,
    activity: parts.activity,
    certPem,
    keyPem,
    logger: parts.logger.child({ component: 'access-proxy' }),
    clock: parts.clock,
    publicUrl: options.publicUrl,
    ...(options.dialTimeoutMs === undefined ? {} : { dialTimeoutMs: options.dialTimeoutMs }),
    ...(options.headTimeoutMs === undefined ? {} : { headTimeoutMs: options.headTimeoutMs }),
    onHttpRequest: options.onHttpRequest,
    metrics: accessSessionMetrics(parts.metrics),
  });
  const address = await proxy.listen(at.host, at.port);
  return { proxy, address, url: proxy.publicUrl ?? '' };
}

async function accessCertificate(
  options: AccessListenOptions,
  host: string,
  ca: CertificateAuthority,
): Promise<{ certPem: string; keyPem: string }> {
  if (options.certFile !== undefined || options.keyFile !== undefined) {
    if (options.certFile === undefined || options.keyFile === undefined) {
      throw new PosternError(
        'POSTERN_ERR_INVALID_ARGUMENT',
        '--access-cert and --access-key go together: give both PEM files, or neither to use a certificate from the edge CA.',
      );
    }
    return {
      certPem: await readFile(options.certFile, 'utf8'),
      keyPem: await readFile(options.keyFile, 'utf8'),
    };
  }
  const hosts = new Set(['localhost', hostname(), ...(options.names ?? [])]);
  if (host !== '0.0.0.0' && host !== '::') hosts.add(host);
  if (options.publicUrl !== undefined) hosts.add(new URL(options.publicUrl).hostname);
  const all = [...hosts].map((h) => h.replace(/^\[|\]$/g, ''));
  return ca.issueServerCertificate({
    dnsNames: all.filter((h) => net.isIP(h) === 0),
    ipAddresses: [...new Set(['127.0.0.1', '::1', ...all.filter((h) => net.isIP(h) !== 0)])],
  });
}
