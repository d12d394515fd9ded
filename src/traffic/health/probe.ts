import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dialer } from '../dialer.js';
import { startUpstreamTls, type UpstreamTls } from '../upstream-tls.js';
import type { MonitorSpec } from './monitor-spec.js';
import { probeTls } from './probe-tls.js';

/** The outcome of one health probe; `detail` says why it failed (or what it saw). */
export interface ProbeResult {
  readonly ok: boolean;
  readonly detail: string;
}

/** What a probe needs besides the monitor and the node. */
export interface ProbeContext {
  readonly dialer: Dialer;
  /** Connector group of the pool; absent = dial from here. */
  readonly via: string | undefined;
  readonly sessionId: string;
  /** Aborted when the probe's time is up; the probe then releases its sockets. */
  readonly signal: AbortSignal;
  /** The pool's name, for the reason of a failed TLS check; default "" (unnamed). */
  readonly pool?: string | undefined;
  /** The pool's `tls`: an https probe then uses its settings (see probeTls); default none. */
  readonly tls?: UpstreamTls | undefined;
}

/** Most body bytes read for `body_match`; health pages are small. */
const MAX_BODY = 64 * 1024;

/** Runs one probe of `spec` against the node at `address`, through the Dialer; never rejects. */
export async function runProbe(
  spec: MonitorSpec,
  address: string,
  context: ProbeContext,
): Promise<ProbeResult> {
  const sockets: Duplex[] = [];
  const release = (): void => {
    for (const s of sockets) s.destroy();
  };
  context.signal.addEventListener('abort', release, { once: true });
  try {
    const dialed = await context.dialer.dial({
      address,
      ...(context.via === undefined ? {} : { via: context.via }),
      sessionId: context.sessionId,
      timeoutMs: spec.timeoutMs,
      signal: context.signal,
    });
    sockets.push(dialed.socket);
    if (context.signal.aborted) return { ok: false, detail: 'timed out' };
    if (spec.type === 'tcp') return { ok: true, detail: 'connected' };
    let stream = dialed.socket;
    if (spec.type === 'https') {
      // Failures reject with POSTERN_ERR_UPSTREAM_TLS, the words real traffic to the node gets.
      stream = await startUpstreamTls(dialed.socket, address, {
        tls: probeTls(spec, context.pool ?? '', context.tls),
        timeoutMs: spec.timeoutMs,
      });
      sockets.push(stream);
    }
    return await checkHttp(stream, spec, address);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const message = (err as Error).message;
    return { ok: false, detail: typeof code === 'string' ? `${code}: ${message}` : message };
  } finally {
    context.signal.removeEventListener('abort', release);
    release();
  }
}

function checkHttp(stream: Duplex, spec: MonitorSpec, address: string): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        createConnection: () => stream,
        method: 'GET',
        path: spec.path,
        headers: {
          host: spec.hostHeader ?? address,
          'user-agent': 'postern-health',
          connection: 'close',
        },
      },
      (response) => {
        const status = response.statusCode ?? 0;
        if (!spec.expectStatus(status)) {
          response.destroy();
          resolve({ ok: false, detail: `unexpected status ${status}` });
          return;
        }
        const pattern = spec.bodyMatch;
        if (pattern === undefined) {
          response.destroy();
          resolve({ ok: true, detail: `status ${status}` });
          return;
        }
        readBody(response, (body) =>
          resolve(
            pattern.test(body)
              ? { ok: true, detail: `status ${status}, body matched` }
              : { ok: false, detail: `status ${status}, body did not match ${String(pattern)}` },
          ),
        );
      },
    );
    // A close before the response surfaces here as "socket hang up".
    request.once('error', reject);
    request.end();
  });
}

/** Collects up to MAX_BODY bytes, then hands the text over (early when the cap is reached). */
function readBody(response: http.IncomingMessage, done: (body: string) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    response.destroy();
    done(Buffer.concat(chunks).subarray(0, MAX_BODY).toString('utf8'));
  };
  response.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= MAX_BODY) finish();
  });
  response.once('end', finish);
  response.once('error', finish);
  response.once('close', finish);
}
