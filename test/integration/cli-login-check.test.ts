// `postern login` checks that the edge can start a login before it sends the user there; the
// check itself must leave nothing at the edge (a pending login would linger for 10 minutes).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isPosternError } from '../../src/core/index.js';
import { login } from '../../src/client/index.js';
import { freePort, startTestEdge, tempDir, type TestEdge } from '../harness/harness.js';
import { startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.js';

let edge: TestEdge;
let issuer: OidcIssuer;
let caPem: string;

before(async () => {
  issuer = await startOidcIssuer({
    redirectUris: ['https://127.0.0.1/.postern/auth/callback'],
    accounts: { ann: { email: 'ann@example.com', name: 'Ann', groups: [] } },
  });
  edge = await startTestEdge({ access: { listen: '127.0.0.1:0' } });
  caPem = await readFile(join(edge.dir, 'ca.crt'), 'utf8');
  await putProvider(issuer.issuer);
});
after(async () => {
  await edge.stop();
  await issuer.close();
});

async function putProvider(issuerUrl: string): Promise<void> {
  const spec = {
    name: 'corp',
    issuer: issuerUrl,
    client_id: issuer.clientId,
    client_secret: issuer.clientSecret,
  };
  const put = await edge.api('PUT', '/identity-providers/corp', spec);
  if (put.status === 404) {
    const created = await edge.api('POST', '/identity-providers', spec);
    assert.equal(created.status, 201, JSON.stringify(created.body));
  } else assert.equal(put.status, 200, JSON.stringify(put.body));
}

/** How many pending logins the edge's store holds (they are deleted as they are counted). */
async function takePendingLogins(): Promise<number> {
  const swept = await edge.store.sessions.sweep({
    now: Number.MAX_SAFE_INTEGER,
    authenticatedBefore: 0,
  });
  return swept.pendingLogins;
}

/** What a browser does first with the login URL: one GET, redirects not followed. */
function browserGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca: caPem }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
}

test('postern login checks the edge without starting a login there; only the browser starts one', async () => {
  assert.equal(await takePendingLogins(), 0);
  const aborted = new AbortController();
  let seen: Promise<{ beforeBrowser: number; afterBrowser: number; status: number }> | undefined;
  const run = login({
    edgeUrl: edge.accessUrl ?? '',
    caPem,
    configDir: await tempDir('tidyh-login-'),
    timeoutMs: 30_000,
    signal: aborted.signal,
    onUrl: (url) => {
      seen = (async () => {
        const beforeBrowser = await takePendingLogins();
        const status = await browserGet(url);
        const afterBrowser = await takePendingLogins();
        aborted.abort();
        return { beforeBrowser, afterBrowser, status };
      })();
    },
  });
  await assert.rejects(run, (err) => isPosternError(err, 'POSTERN_ERR_LOGIN_TIMEOUT'));
  assert.ok(seen, 'the login URL was shown: the check passed');
  const counts = await seen;
  assert.equal(counts.beforeBrowser, 0, 'the check left no pending login');
  assert.equal(counts.status, 302, 'the browser is sent to the identity provider');
  assert.equal(counts.afterBrowser, 1, "the browser's visit started exactly one login");
});

test('a login the edge cannot start fails at once and leaves no pending login', async () => {
  await putProvider(`http://127.0.0.1:${await freePort()}`);
  try {
    let shown = false;
    await assert.rejects(
      login({
        edgeUrl: edge.accessUrl ?? '',
        caPem,
        configDir: await tempDir('tidyh-login-'),
        timeoutMs: 30_000,
        onUrl: () => (shown = true),
      }),
      (err) => isPosternError(err, 'POSTERN_ERR_LOGIN_UNAVAILABLE'),
    );
    assert.equal(shown, false, 'no URL to a login that cannot work');
    assert.equal(await takePendingLogins(), 0);
  } finally {
    await putProvider(issuer.issuer);
  }
});
