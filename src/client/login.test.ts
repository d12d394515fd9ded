import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPosternError } from '../core/index.js';
import { loadCredential } from './credentials.js';
import { login } from './login.js';

/** A stand-in edge: answers the check, and exchanges `good-code` for a token given the right verifier. */
async function fakeEdge(t: test.TestContext) {
  const exchanges: URLSearchParams[] = [];
  let challenge = '';
  const server = http.createServer((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(204).end();
      return;
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      exchanges.push(form);
      const verifier = form.get('code_verifier') ?? '';
      const ok =
        form.get('code') === 'good-code' &&
        createHash('sha256').update(verifier).digest('base64url') === challenge;
      res.writeHead(ok ? 200 : 400, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          ok
            ? { token: 'the-token', expires_at: 1_900_000_000_000, user: 'alice@example.com' }
            : { error: 'invalid_grant', error_description: 'the code is invalid or expired' },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const dir = await mkdtemp(join(tmpdir(), 'clilogin-client-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const edgeUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { edgeUrl, dir, exchanges, setChallenge: (c: string) => (challenge = c) };
}

/** Runs a login whose "browser" calls back with the query `answer` builds from the start URL. */
function loginWith(
  edge: Awaited<ReturnType<typeof fakeEdge>>,
  answer: (start: URL) => Record<string, string>,
) {
  const statuses: number[] = [];
  const credential = login({
    edgeUrl: edge.edgeUrl,
    configDir: edge.dir,
    timeoutMs: 10_000,
    onUrl: (href) => {
      const start = new URL(href);
      edge.setChallenge(start.searchParams.get('code_challenge') ?? '');
      const back = new URL(start.searchParams.get('callback') ?? '');
      for (const [k, v] of Object.entries(answer(start))) back.searchParams.set(k, v);
      void fetch(back).then((r) => statuses.push(r.status));
    },
  });
  return { credential, statuses };
}

test('postern login sends an S256 challenge and exchanges the callback code with its verifier', async (t) => {
  const edge = await fakeEdge(t);
  let start: URL | undefined;
  const { credential } = loginWith(edge, (s) => {
    start = s;
    return { state: s.searchParams.get('state') ?? '', code: 'good-code' };
  });
  const stored = await credential;
  assert.equal(start?.searchParams.get('code_challenge_method'), 'S256');
  assert.match(start?.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
  assert.equal(stored.token, 'the-token');
  assert.equal(stored.user, 'alice@example.com');
  assert.equal(edge.exchanges.length, 1);
  assert.equal(edge.exchanges[0]?.get('grant_type'), 'authorization_code');
  const saved = await loadCredential(edge.edgeUrl, { configDir: edge.dir });
  assert.equal(saved?.token, 'the-token');
});

test('postern login ignores a callback that brings a token instead of a code', async (t) => {
  const edge = await fakeEdge(t);
  const controller = new AbortController();
  const statuses: number[] = [];
  const run = login({
    edgeUrl: edge.edgeUrl,
    configDir: edge.dir,
    timeoutMs: 10_000,
    signal: controller.signal,
    onUrl: (href) => {
      const start = new URL(href);
      const back = new URL(start.searchParams.get('callback') ?? '');
      back.searchParams.set('state', start.searchParams.get('state') ?? '');
      back.searchParams.set('token', 'smuggled');
      void fetch(back).then((r) => {
        statuses.push(r.status);
        controller.abort();
      });
    },
  });
  await assert.rejects(run, (err) => isPosternError(err, 'POSTERN_ERR_LOGIN_TIMEOUT'));
  assert.deepEqual(statuses, [400]);
  assert.equal(edge.exchanges.length, 0);
});

test('Deny in the browser ends postern login with POSTERN_ERR_LOGIN_DENIED and no exchange', async (t) => {
  const edge = await fakeEdge(t);
  const { credential } = loginWith(edge, (s) => ({
    state: s.searchParams.get('state') ?? '',
    error: 'access_denied',
  }));
  await assert.rejects(credential, (err) => isPosternError(err, 'POSTERN_ERR_LOGIN_DENIED'));
  assert.equal(edge.exchanges.length, 0);
});

test('a code the edge refuses ends postern login with POSTERN_ERR_LOGIN_EXCHANGE', async (t) => {
  const edge = await fakeEdge(t);
  const { credential } = loginWith(edge, (s) => ({
    state: s.searchParams.get('state') ?? '',
    code: 'stale-code',
  }));
  await assert.rejects(credential, (err) => isPosternError(err, 'POSTERN_ERR_LOGIN_EXCHANGE'));
  const message = await credential.then(
    () => '',
    (e: Error) => e.message,
  );
  assert.match(message, /the code is invalid or expired/);
});
