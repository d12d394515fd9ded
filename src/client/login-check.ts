import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { clientErrors } from './errors.js';

/** Largest page read from the edge. */
const MAX_BODY = 64 * 1024;
/** Transport errors that mean nothing answers at that address, for the browser either. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

/**
 * Asks the edge whether its CLI login page could start a login (`check=1`: the edge stores
 * nothing, not even a pending login; a throwaway state and challenge, so the probe reveals
 * nothing) before
 * the user is sent there: when the edge cannot start a login (no identity provider for the
 * CLI, a provider that does not answer), fails at once with the edge's own explanation instead
 * of waiting for a browser that will never come back. A 204 or a redirect (an older edge that
 * starts a login) passes. When this process does not trust the edge's certificate (the browser may: --ca was
 * not given), the page is read without verification, only ever to fail on its refusal; other
 * transport errors than "nothing listens there" pass.
 */
export async function checkCliLogin(
  edgeUrl: string,
  callback: string,
  options: { readonly caPem?: string | undefined; readonly timeoutMs?: number } = {},
): Promise<void> {
  const url = new URL('/.postern/cli/login', edgeUrl);
  url.searchParams.set('callback', callback);
  url.searchParams.set('state', randomBytes(24).toString('base64url'));
  url.searchParams.set('code_challenge', randomBytes(32).toString('base64url').slice(0, 43));
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('check', '1');
  const timeoutMs = options.timeoutMs ?? 20_000;
  let answer: { status: number; body: string } | undefined;
  try {
    answer = await get(url, { caPem: options.caPem, verify: true, timeoutMs });
  } catch (err) {
    if (UNREACHABLE.has((err as NodeJS.ErrnoException).code ?? '')) {
      throw clientErrors.edgeUnreachable(edgeUrl, err);
    }
    if (url.protocol !== 'https:') return;
    answer = await get(url, { verify: false, timeoutMs }).catch(() => undefined);
  }
  if (answer === undefined || answer.status < 400) return;
  throw clientErrors.loginUnavailable(edgeUrl, answer.status, pageText(answer.body));
}

/** The readable text of one of the edge's small HTML pages: title and paragraphs, one line. */
export function pageText(html: string): string {
  const parts = [...html.matchAll(/<(h1|p)>([\s\S]*?)<\/\1>/g)].map((m) => m[2] ?? '');
  const text = (parts.length > 0 ? parts.join('. ') : html)
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .replace(/\.\./g, '.')
    .trim();
  return text.slice(0, 500);
}

function get(
  url: URL,
  o: { readonly caPem?: string | undefined; readonly verify: boolean; readonly timeoutMs: number },
): Promise<{ status: number; body: string }> {
  const { timeoutMs } = o;
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const tls = {
      rejectUnauthorized: o.verify,
      ...(o.caPem !== undefined ? { ca: o.caPem } : {}),
    };
    const request = (secure ? https.get : http.get)(url, {
      headers: { accept: 'text/html' },
      ...(secure ? tls : {}),
    });
    request.setTimeout(timeoutMs, () =>
      request.destroy(new Error(`the edge did not answer in ${timeoutMs} ms`)),
    );
    request.on('error', reject);
    request.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        if (body.length > MAX_BODY) res.destroy();
      });
      res.on('error', reject);
      res.on('close', () => resolve({ status: res.statusCode ?? 0, body }));
    });
  });
}
