import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreErrors } from '../../core/index.js';
import { splitHostPort } from '../../traffic/index.js';

/** What the probes report. */
export interface ProbeState {
  /** Liveness: false when the process should be restarted. */
  alive(): boolean;
  /** Readiness: true while a tunnel to the edge is up. */
  ready(): boolean;
  /**
   * Why the connector takes no new sessions although connected (an administrator drained it),
   * or undefined; while set, `/readyz` answers 503 `{"status":"draining","reason":…}`. Default none.
   */
  readonly draining?: (() => string | undefined) | undefined;
  /** Prometheus metrics served at `GET /metrics` (a prom-client Registry fits); default none. */
  readonly metrics?: { readonly contentType: string; metrics(): Promise<string> } | undefined;
}

/** A running probe server. */
export interface ProbeServer {
  readonly address: AddressInfo;
  close(): Promise<void>;
}

/**
 * Serves the kubelet's probes for a connector, which otherwise has no HTTP port:
 * `GET /healthz` (alive) and `GET /readyz` (a tunnel to the edge is up), 200 or 503. Rolling
 * updates wait for a new pod to hold a tunnel before an old one drains. With `state.metrics`
 * it also serves `GET /metrics` for Prometheus.
 */
export async function startProbeServer(listen: string, state: ProbeState): Promise<ProbeServer> {
  const at = splitHostPort(listen, { allowZero: true });
  if (!at) throw CoreErrors.invalidArgument('--probe-listen', `"${listen}" is not host:port`);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics' && state.metrics) {
      serveMetrics(res, state.metrics);
      return;
    }
    const known = path === '/healthz' || path === '/readyz';
    if (req.method !== 'GET' || !known) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"status":"not found"}');
      return;
    }
    const body = path === '/healthz' ? liveness(state) : readiness(state);
    res.writeHead(body.status === 'ok' || body.status === 'ready' ? 200 : 503, {
      'content-type': 'application/json',
    });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: at.host, port: at.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    address: server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function liveness(state: ProbeState): { status: string } {
  return { status: state.alive() ? 'ok' : 'failed' };
}

function readiness(state: ProbeState): { status: string; reason?: string } {
  if (!state.ready()) return { status: 'not connected' };
  const reason = state.draining?.();
  return reason === undefined ? { status: 'ready' } : { status: 'draining', reason };
}

/** Writes the registry's exposition text, or 500 when collecting failed. */
function serveMetrics(
  res: http.ServerResponse,
  metrics: { readonly contentType: string; metrics(): Promise<string> },
): void {
  metrics.metrics().then(
    (body) => res.writeHead(200, { 'content-type': metrics.contentType }).end(body),
    (err: unknown) =>
      res
        .writeHead(500, { 'content-type': 'text/plain' })
        .end(`collecting metrics failed: ${(err as Error).message}\n`),
  );
}
