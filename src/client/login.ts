import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { clientErrors } from './errors.js';
import { edgeKey, storeLogin, type EdgeCredential, type LoginAnswer } from './credentials.js';
import { checkCliLogin } from './login-check.js';
import { exchangeLoginCode, newPkce } from './login-exchange.js';

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

const page = (title: string, text: string): string =>
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Postern login</title></head>' +
  `<body><h1>${title}</h1><p>${text}</p></body></html>\n`;

const DONE_PAGE = page('Logged in', 'You can close this window and go back to the terminal.');

/**
 * Logs in to an edge (RFC 8252 with PKCE): listens on a random 127.0.0.1 port, has the user open
 * the edge's CLI login page (the identity provider's login, then an Allow/Deny page), takes the
 * one-time code the browser brings back (checking the state it chose), exchanges it with its
 * PKCE verifier for a user token, and stores the token with {@link saveCredential} (mode 0600).
 * The token never appears in a URL.
 */
export async function login(options: LoginOptions): Promise<EdgeCredential> {
  const origin = edgeKey(options.edgeUrl);
  const state = randomBytes(24).toString('base64url');
  const pkce = newPkce();
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
  });
  try {
    const port = (server.address() as AddressInfo).port;
    const callback = `http://127.0.0.1:${port}/callback`;
    const start = new URL('/.postern/cli/login', origin);
    start.searchParams.set('callback', callback);
    start.searchParams.set('state', state);
    start.searchParams.set('code_challenge', pkce.challenge);
    start.searchParams.set('code_challenge_method', 'S256');
    // The edge may be unable to start any login: say why now rather than after the timeout.
    await checkCliLogin(origin, callback, { caPem: options.caPem });
    options.onUrl(start.href);
    options.openBrowser?.(start.href);
    const redeem = (code: string): Promise<LoginAnswer> =>
      exchangeLoginCode(origin, { code, verifier: pkce.verifier }, { caPem: options.caPem });
    const answer = await waitForCallback(server, { state, origin, redeem }, options);
    return await storeLogin(answer, options);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

/** What the callback checks and does. */
interface CallbackWork {
  readonly state: string;
  readonly origin: string;
  readonly redeem: (code: string) => Promise<LoginAnswer>;
}

function waitForCallback(
  server: http.Server,
  work: CallbackWork,
  options: LoginOptions,
): Promise<LoginAnswer> {
  return new Promise((resolve, reject) => {
    const timeoutMs = options.timeoutMs ?? 300_000;
    let handled = false;
    const finish = (err: Error | undefined, answer?: LoginAnswer): void => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(answer as LoginAnswer);
    };
    const timer = setTimeout(() => finish(clientErrors.loginTimeout(timeoutMs)), timeoutMs);
    const onAbort = (): void => finish(clientErrors.loginTimeout(0));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const q = new URL(req.url ?? '/', 'http://127.0.0.1').searchParams;
      const code = q.get('code') ?? '';
      const refused = q.get('error');
      // Anything on this machine can reach the port: only the state we chose counts, once.
      if (handled || !isCallback(req, work.state) || (!code && refused === null)) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('Not a Postern login callback.\n');
        return;
      }
      handled = true;
      const reply = (status: number, html: string): void => {
        res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', connection: 'close' });
        res.end(html);
      };
      if (refused !== null) {
        reply(200, page('Login denied', 'Nothing was granted. You can close this window.'));
        finish(clientErrors.loginDenied(work.origin));
        return;
      }
      work.redeem(code).then(
        (answer) => {
          reply(200, DONE_PAGE);
          finish(undefined, answer);
        },
        (err: Error) => {
          reply(502, page('Login failed', 'The terminal says why. You can close this window.'));
          finish(err);
        },
      );
    });
  });
}

function isCallback(req: http.IncomingMessage, state: string): boolean {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  return (
    req.method === 'GET' && url.pathname === '/callback' && url.searchParams.get('state') === state
  );
}
