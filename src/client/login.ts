import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { clientErrors } from './errors.js';
import { edgeKey, storeLogin, type EdgeCredential } from './credentials.js';
import { checkCliLogin } from './login-check.js';

/** How `postern login` runs. */
export interface LoginOptions {
  /** The edge's access URL (or any of its https virtual servers). */
  readonly edgeUrl: string;
  /** PEM of the CA of the edge's certificate, stored with the token for `postern tcp`. */
  readonly caPem?: string | undefined;
  /** Told the URL the user must open (printed by the CLI). */
  readonly onUrl: (url: string) => void;
  /** Opens the URL in a browser; default none (the URL is only shown). */
  readonly openBrowser?: ((url: string) => void) | undefined;
  /** Give up when the browser has not come back in this long; default 5 min. */
  readonly timeoutMs?: number | undefined;
  /** Where credentials are stored; default {@link defaultConfigDir}. */
  readonly configDir?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

const DONE_PAGE =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Postern login</title></head>' +
  '<body><h1>Logged in</h1><p>You can close this window and go back to the terminal.</p></body></html>\n';

/**
 * Logs in to an edge: listens on a random 127.0.0.1 port, has the user open the edge's CLI
 * login page (which runs the identity provider's login and redirects back with a user token),
 * checks the state it chose, and stores the token with {@link saveCredential} (mode 0600).
 */
export async function login(options: LoginOptions): Promise<EdgeCredential> {
  const origin = edgeKey(options.edgeUrl);
  const state = randomBytes(24).toString('base64url');
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
  });
  try {
    const port = (server.address() as AddressInfo).port;
    const start = new URL('/.postern/cli/login', origin);
    start.searchParams.set('callback', `http://127.0.0.1:${port}/callback`);
    start.searchParams.set('state', state);
    // The edge may be unable to start any login: say why now rather than after the timeout.
    await checkCliLogin(origin, `http://127.0.0.1:${port}/callback`, { caPem: options.caPem });
    options.onUrl(start.href);
    options.openBrowser?.(start.href);
    const answer = await waitForCallback(server, state, options);
    return await storeLogin(answer, options);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

interface CallbackAnswer {
  readonly token: string;
  readonly expiresAt: number;
  readonly user: string | undefined;
}

function waitForCallback(
  server: http.Server,
  state: string,
  options: LoginOptions,
): Promise<CallbackAnswer> {
  return new Promise((resolve, reject) => {
    const timeoutMs = options.timeoutMs ?? 300_000;
    const finish = (err: Error | undefined, answer?: CallbackAnswer): void => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(answer as CallbackAnswer);
    };
    const timer = setTimeout(() => finish(clientErrors.loginTimeout(timeoutMs)), timeoutMs);
    const onAbort = (): void => finish(clientErrors.loginTimeout(0));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const q = url.searchParams;
      const token = q.get('token') ?? '';
      const expiresAt = Number(q.get('expires_at'));
      // Anything on this machine can reach the port: only the state we chose counts.
      if (url.pathname !== '/callback' || q.get('state') !== state || !token) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('Not a Postern login callback.\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', connection: 'close' });
      res.end(DONE_PAGE);
      finish(undefined, {
        token,
        expiresAt: Number.isFinite(expiresAt) ? expiresAt : 0,
        user: q.get('user') ?? undefined,
      });
    });
  });
}
