import { PosternError } from '../core/index.js';

/** Errors of the user's side: `postern login` and `postern tcp`. */
export const clientErrors = {
  badEdgeUrl: (url: string, cause?: unknown) =>
    new PosternError(
      'POSTERN_ERR_EDGE_URL',
      `"${url}" is not an edge URL. Give the edge's access address as a URL, e.g. https://edge.example.com:8444.`,
      { cause },
    ),
  badCredentialsFile: (path: string, cause?: unknown) =>
    new PosternError(
      'POSTERN_ERR_CREDENTIALS_FILE',
      `The credentials file ${path} cannot be read as Postern credentials. Remove it and log in again with \`postern login --edge <url>\`.`,
      { cause },
    ),
  loginRequired: (edgeUrl: string, why: string) =>
    new PosternError(
      'POSTERN_ERR_LOGIN_REQUIRED',
      `The edge did not accept your login (${why}): log in again: postern login --edge ${edgeUrl}`,
    ),
  accessRefused: (target: string, status: number, body: string) =>
    new PosternError(
      'POSTERN_ERR_ACCESS_REFUSED',
      `The edge refused the connection to ${target} with HTTP ${status}: ${body || 'no reason given'}`,
    ),
  edgeUnreachable: (edgeUrl: string, cause: unknown) =>
    new PosternError(
      'POSTERN_ERR_EDGE_UNREACHABLE',
      `The edge's access proxy at ${edgeUrl} cannot be reached: ${(cause as Error).message}. Check the URL, that the edge runs with --access-listen, and that its CA is trusted (--ca FILE).`,
      { cause },
    ),
  edgeRequired: (stored: readonly string[]) =>
    new PosternError(
      'POSTERN_ERR_EDGE_REQUIRED',
      stored.length === 0
        ? 'You are not logged in to any edge. Log in with `postern login --edge <url>` first.'
        : `You are logged in to several edges (${stored.join(', ')}); say which with --edge <url>.`,
    ),
  loginTimeout: (timeoutMs: number) =>
    new PosternError(
      'POSTERN_ERR_LOGIN_TIMEOUT',
      timeoutMs > 0
        ? `The browser did not come back from the login within ${Math.round(timeoutMs / 1000)} s. Run \`postern login --edge <url>\` again and finish the login in the browser.`
        : 'The login was cancelled. Run `postern login --edge <url>` again to log in.',
    ),
  loginUnavailable: (edgeUrl: string, status: number, page: string) =>
    new PosternError(
      'POSTERN_ERR_LOGIN_UNAVAILABLE',
      `The edge at ${edgeUrl} cannot start a CLI login (HTTP ${status}): ${page.replace(/\.$/, '') || 'no reason given'}. A browser cannot help: ask the edge's administrator to fix it, then log in again.`,
    ),
  loginDenied: (edgeUrl: string) =>
    new PosternError(
      'POSTERN_ERR_LOGIN_DENIED',
      `The login was denied in the browser. If you started it, run \`postern login --edge ${edgeUrl}\` again and press Allow; if you did not, nothing was granted.`,
    ),
  loginExchangeFailed: (edgeUrl: string, why: string, cause?: unknown) =>
    new PosternError(
      'POSTERN_ERR_LOGIN_EXCHANGE',
      `The browser login succeeded, but the edge at ${edgeUrl} did not hand over the token: ${why}. Check that this machine trusts the edge's certificate (give its CA with --ca FILE) and run \`postern login --edge ${edgeUrl}\` again.`,
      { cause },
    ),
  deviceLoginDenied: (edgeUrl: string) =>
    new PosternError(
      'POSTERN_ERR_DEVICE_LOGIN_DENIED',
      `The device login was denied in the browser. If you started it, run \`postern login --edge ${edgeUrl} --device\` again and press Approve; if you did not, nothing was granted.`,
    ),
  deviceLoginExpired: (edgeUrl: string, expiresInSeconds: number) =>
    new PosternError(
      'POSTERN_ERR_DEVICE_LOGIN_EXPIRED',
      `The device login expired before it was approved (it is valid for ${Math.round(expiresInSeconds / 60)} min). Run \`postern login --edge ${edgeUrl} --device\` again and approve the code in the browser in time.`,
    ),
  deviceLoginFailed: (edgeUrl: string, why: string, cause?: unknown) =>
    new PosternError(
      'POSTERN_ERR_DEVICE_LOGIN_FAILED',
      `The device login at ${edgeUrl} failed: ${why}. Check the edge URL (the edge must offer device logins: a recent version with its store) and run \`postern login --edge <url> --device\` again.`,
      { cause },
    ),
  deviceLoginOff: (edgeUrl: string) =>
    new PosternError(
      'POSTERN_ERR_DEVICE_LOGIN_OFF',
      `The edge at ${edgeUrl} does not offer device logins: its operator switched them off (\`postern edge --device-login off\`), or it is an older edge (HTTP 404). Run \`postern login --edge ${edgeUrl}\` (without --device) on a machine with a browser, or ask the edge's operator to switch device login on.`,
    ),
} as const;
