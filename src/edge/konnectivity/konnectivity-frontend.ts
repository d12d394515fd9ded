import { hostname } from 'node:os';
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../../core/index.js';
import { splitHostPort } from '../../traffic/index.js';
import { ConnectHandler, type FrontendBackend, type FrontendConnector } from './connect-handler.js';
import { konnectivityErrors } from './errors.js';
import { FrontendMetrics } from './frontend-metrics.js';
import { keepMtlsFresh, loadMtlsContext, type ServerKeyPair } from './mtls-listener.js';
import { parseProxyStrategies, type ProxyStrategy } from './proxy-strategies.js';
import { listenUnixSocket } from './unix-listener.js';

/** How the Konnectivity-compatible frontend listens and routes; at least one listener is needed. */
export interface KonnectivityOptions {
  /** Unix socket path (mode 0770), for kube-apiserver on the same host. */
  readonly udsPath?: string | undefined;
  /** `host:port` of the mTLS TCP listener. */
  readonly listen?: string | undefined;
  /** CA bundle client certificates must chain to; required with `listen`. */
  readonly clientCaFile?: string | undefined;
  /** Server certificate and key for `listen`; default one issued by the edge CA (re-issued before expiry). */
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
  /** Extra DNS names or IPs for the issued server certificate (besides localhost, loopback, host name, listen host). */
  readonly serverNames?: readonly string[] | undefined;
  /** Order of strategies, list or `--proxy-strategies` text; default `default`. */
  readonly strategies?: readonly ProxyStrategy[] | string | undefined;
  /** Only connectors of this group are candidates; default every group. */
  readonly group?: string | undefined;
  readonly headTimeoutMs?: number | undefined;
  readonly dialTimeoutMs?: number | undefined;
  readonly maxPendingDials?: number | undefined;
  /** How often TLS files are re-read (and an issued certificate checked for renewal); default 60 s. */
  readonly tlsReloadMs?: number | undefined;
}

/** What the edge supplies to the frontend. */
export interface KonnectivityDeps<C extends FrontendConnector> {
  readonly backend: FrontendBackend<C>;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly clock?: Clock | undefined;
  /** Issues a server certificate from the edge CA for the given names. */
  readonly issueCertificate: (names: {
    dnsNames: string[];
    ipAddresses: string[];
  }) => Promise<ServerKeyPair>;
}

/** A running frontend. */
export interface KonnectivityFrontend {
  readonly udsPath: string | undefined;
  readonly tcpAddress: net.AddressInfo | undefined;
  readonly strategies: readonly ProxyStrategy[];
  readonly metrics: FrontendMetrics;
  /** Stops listening, cuts open tunnels after `graceMs` (default 2000), removes the socket file. */
  close(graceMs?: number): Promise<void>;
}

/** Starts the HTTP CONNECT frontend kube-apiserver's egress selector talks to. */
export async function startKonnectivityFrontend<C extends FrontendConnector>(
  options: KonnectivityOptions,
  deps: KonnectivityDeps<C>,
): Promise<KonnectivityFrontend> {
  const listenAt = checkOptions(options);
  const strategies =
    typeof options.strategies === 'string'
      ? parseProxyStrategies(options.strategies)
      : [...(options.strategies ?? ['default'])];
  const metrics = new FrontendMetrics(deps.registry);
  const log = deps.logger.child({ component: 'konnectivity' });
  const group = options.group;
  const handler = new ConnectHandler<C>({
    backend: group === undefined ? deps.backend : inGroup(deps.backend, group),
    strategies,
    metrics,
    logger: log,
    clock: deps.clock,
    headTimeoutMs: options.headTimeoutMs,
    dialTimeoutMs: options.dialTimeoutMs,
    maxPendingDials: options.maxPendingDials,
  });
  const servers: net.Server[] = [];
  let stopRefresh = (): void => undefined;
  try {
    if (options.udsPath !== undefined)
      servers.push(await listenUnixSocket(options.udsPath, (s) => handler.handle(s, 'uds')));
    if (listenAt) {
      const tcp = await listenMtls(listenAt, options, { deps, handler, metrics, log });
      servers.push(tcp.server);
      stopRefresh = tcp.stopRefresh;
    }
  } catch (err) {
    await Promise.all(servers.map(closeServer));
    throw err;
  }
  const tcpServer = listenAt ? servers[servers.length - 1] : undefined;
  log.info(
    { uds: options.udsPath, tcp: options.listen, strategies },
    'konnectivity frontend listening',
  );
  return {
    udsPath: options.udsPath,
    tcpAddress: tcpServer?.address() as net.AddressInfo | undefined,
    strategies,
    metrics,
    async close(graceMs = 2000) {
      stopRefresh();
      const closed = Promise.all(servers.map(closeServer));
      const deadline = Date.now() + graceMs;
      while (handler.connections > 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      handler.destroyAll();
      await closed;
    },
  };
}

function checkOptions(options: KonnectivityOptions): { host: string; port: number } | undefined {
  if (options.udsPath === undefined && options.listen === undefined)
    throw konnectivityErrors.badOptions('give --konnectivity-uds or --konnectivity-listen');
  if ((options.certFile === undefined) !== (options.keyFile === undefined))
    throw konnectivityErrors.badOptions('--konnectivity-cert and --konnectivity-key go together');
  if (options.listen === undefined) return undefined;
  if (options.clientCaFile === undefined)
    throw konnectivityErrors.badOptions(
      '--konnectivity-listen needs --konnectivity-client-ca: the TCP listener accepts only clients with a certificate from that CA',
    );
  const at = splitHostPort(options.listen, { allowZero: true });
  if (!at)
    throw konnectivityErrors.badOptions(
      `--konnectivity-listen "${options.listen}" is not host:port`,
    );
  return at;
}

async function listenMtls<C extends FrontendConnector>(
  at: { host: string; port: number },
  options: KonnectivityOptions,
  parts: {
    deps: KonnectivityDeps<C>;
    handler: ConnectHandler<C>;
    metrics: FrontendMetrics;
    log: Logger;
  },
): Promise<{ server: tls.Server; stopRefresh: () => void }> {
  const source = {
    clientCaFile: options.clientCaFile ?? '',
    certFile: options.certFile,
    keyFile: options.keyFile,
    issue: () => parts.deps.issueCertificate(certificateNames(at.host, options.serverNames ?? [])),
  };
  const context = await loadMtlsContext(source);
  const server = tls.createServer({
    ...context,
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
    allowHalfOpen: true,
    handshakeTimeout: options.headTimeoutMs ?? 10_000,
  });
  server.on('secureConnection', (socket) => parts.handler.handle(socket, 'tcp'));
  server.on('tlsClientError', (err, socket) => {
    parts.metrics.tlsRejections.inc();
    parts.log.debug(
      { remote: socket.remoteAddress, err: err.message },
      'konnectivity TLS handshake refused',
    );
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(konnectivityErrors.listenFailed(`${at.host}:${at.port}`, err)),
    );
    server.listen({ host: at.host, port: at.port }, () => resolve());
  });
  const stopRefresh = keepMtlsFresh(server, source, {
    current: context,
    logger: parts.log,
    ...(options.tlsReloadMs === undefined ? {} : { reloadMs: options.tlsReloadMs }),
  });
  return { server, stopRefresh };
}

function certificateNames(
  listenHost: string,
  extra: readonly string[],
): { dnsNames: string[]; ipAddresses: string[] } {
  const all = new Set(['localhost', hostname(), '127.0.0.1', '::1', ...extra]);
  if (listenHost !== '0.0.0.0' && listenHost !== '::') all.add(listenHost);
  const names = [...all].filter((n) => n !== '');
  return {
    dnsNames: names.filter((n) => net.isIP(n) === 0),
    ipAddresses: names.filter((n) => net.isIP(n) !== 0),
  };
}

function inGroup<C extends FrontendConnector>(
  backend: FrontendBackend<C>,
  group: string,
): FrontendBackend<C> {
  return {
    candidates: () => backend.candidates().filter((c) => c.group === group),
    dial: (c, request) => backend.dial(c, request),
  };
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
