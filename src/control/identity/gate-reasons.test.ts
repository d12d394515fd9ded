import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { FakeClock } from '../../core/index.js';
import { openMemoryStore, type Store } from '../../store/index.js';
import type { AccessGate, HttpRequestRecord } from '../../traffic/index.js';
import {
  makePool,
  send,
  startBackend,
  startProxy,
  waitFor,
  type Backend,
  type Proxy,
  type TestRequest,
  type TestResponse,
} from '../../traffic/http/test-kit.js';
import { BrowserAccess } from './browser-access.js';
import { fakeProvider, wikiConfig, wikiServer } from './test-access-kit.js';
import { UserTokenAuthority } from './user-token.js';

// The identity layer's real gate in front of a real virtual server: the records say why the
// gate answered, where the status alone would mislead.

const vs = wikiServer({ identityHeaders: false, assertion: false });

const stores: Store[] = [];
const proxies: Proxy[] = [];
const backends: Backend[] = [];
after(async () => {
  for (const p of proxies) await p.close();
  for (const b of backends) await b.close();
  for (const s of stores) await s.close();
});

/** The virtual server `wiki` behind the identity layer's gate, with device login offered. */
async function setUp() {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const authority = await UserTokenAuthority.fromPem(UserTokenAuthority.generatePem(), {
    issuer: 'postern-edge',
    clock,
  });
  const store = await openMemoryStore({ clock });
  stores.push(store);
  const access = new BrowserAccess({
    authority,
    clock,
    devices: store,
    discover: () => Promise.resolve(fakeProvider()),
  });
  const gate = access.gateFor(vs, wikiConfig) as AccessGate;
  const backend = await startBackend('wiki');
  backends.push(backend);
  const proxy = await startProxy({ name: 'wiki', pool: makePool('wiki', [backend.address]), gate });
  proxies.push(proxy);
  return proxy;
}

/** The record of the request to `path` the `nth` time (from 0). */
async function recordOf(proxy: Proxy, path: string, nth = 0): Promise<HttpRequestRecord> {
  const matching = (): HttpRequestRecord[] => proxy.records.filter((r) => r.path === path);
  await waitFor(() => matching().length > nth);
  const record = matching()[nth];
  assert.ok(record);
  return record;
}

function cookies(value: string | string[] | undefined): string[] {
  const list = value === undefined ? [] : typeof value === 'string' ? [value] : value;
  return list.map((c) => c.split(';')[0] ?? '');
}

/** Follows `start`, a redirect to the provider, back to the edge as `user`: the callback's answer. */
async function signIn(proxy: Proxy, start: TestResponse, user: string): Promise<TestResponse> {
  assert.equal(start.status, 302, start.text);
  const state = new URL(String(start.headers.location)).searchParams.get('state') ?? '';
  return send(proxy.port, {
    path: `/.postern/auth/callback?code=${user}&state=${state}`,
    headers: { cookie: cookies(start.headers['set-cookie']).join('; ') },
  });
}

/** A POST of `fields` as the gate's pages send their forms: same site, url-encoded. */
function form(path: string, fields: Record<string, string>, headers = {}): TestRequest {
  return {
    method: 'POST',
    path,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'sec-fetch-site': 'same-origin',
      ...headers,
    },
    body: new URLSearchParams(fields).toString(),
  };
}

/** Sends `req`; its status and the close reason its record carries. */
async function outcome(proxy: Proxy, req: TestRequest): Promise<[number, string]> {
  const before = proxy.records.length;
  const answer = await send(proxy.port, req);
  await waitFor(() => proxy.records.length > before);
  const record = proxy.records[before];
  assert.ok(record);
  assert.equal(record.status, answer.status, answer.text);
  return [record.status, record.closeReason];
}

test('a device login poll still waiting for the user is recorded as login_pending', async () => {
  const proxy = await setUp();
  const started = await send(proxy.port, { method: 'POST', path: '/.postern/cli/device' });
  assert.equal(started.status, 200, started.text);
  const deviceCode = String((JSON.parse(started.text) as { device_code: string }).device_code);
  const poll = await send(proxy.port, {
    method: 'POST',
    path: '/.postern/cli/device/token',
    headers: { authorization: `Device ${deviceCode}` },
  });
  assert.equal(poll.status, 400);
  assert.equal((JSON.parse(poll.text) as { error: string }).error, 'authorization_pending');
  const record = await recordOf(proxy, '/.postern/cli/device/token');
  assert.deepEqual([record.status, record.closeReason], [400, 'login_pending']);
  // A poll with a code the edge never issued did fail.
  await send(proxy.port, {
    method: 'POST',
    path: '/.postern/cli/device/token',
    headers: { authorization: 'Device unknown-code' },
  });
  const unknown = await recordOf(proxy, '/.postern/cli/device/token', 1);
  assert.deepEqual([unknown.status, unknown.closeReason], [400, 'login_failed']);
});

test('a login, a denied user and a logout are recorded with what happened', async () => {
  const proxy = await setUp();
  const back = await signIn(proxy, await send(proxy.port, { path: '/private' }), 'bob');
  assert.equal(back.status, 302, back.text);
  const session = cookies(back.headers['set-cookie']).find((c) =>
    c.startsWith('__Host-postern-session-wiki='),
  );
  assert.ok(session);
  const denied = await send(proxy.port, { path: '/private', headers: { cookie: session } });
  assert.equal(denied.status, 403);
  const confirm = await send(proxy.port, {
    path: '/.postern/auth/logout',
    headers: { cookie: session },
  });
  const csrf = /name="csrf" value="([^"]*)"/.exec(confirm.text)?.[1] ?? '';
  const out = await send(proxy.port, form('/.postern/auth/logout', { csrf }, { cookie: session }));
  assert.equal(out.status, 200, out.text);
  const first = await recordOf(proxy, '/private');
  const second = await recordOf(proxy, '/private', 1);
  assert.deepEqual([first.status, first.closeReason], [302, 'login_required']);
  assert.deepEqual([second.status, second.closeReason], [403, 'access_denied']);
  const page = await recordOf(proxy, '/.postern/auth/logout');
  const logout = await recordOf(proxy, '/.postern/auth/logout', 1);
  assert.deepEqual([page.status, page.closeReason], [200, 'access_gate']);
  assert.deepEqual([logout.method, logout.status, logout.closeReason], ['POST', 200, 'logged_out']);
});

// The gate's forms refused as stale, forged, malformed or sent from another site: nobody was
// denied access (403 alone says access_denied) and no login failed (a 4xx of /.postern/ alone).
const CROSS_SITE = { 'sec-fetch-site': 'cross-site' };

test('a refused logout form is recorded as form_refused or cross_site_refused', async () => {
  const proxy = await setUp();
  const logout = '/.postern/auth/logout';
  const stale = { cookie: '__Host-postern-session-wiki=ended' };
  assert.deepEqual(
    [
      await outcome(proxy, form(logout, {}, CROSS_SITE)),
      await outcome(proxy, form(logout, { csrf: 'forged' }, stale)),
      await outcome(proxy, form(logout, {}, { 'content-type': 'text/plain' })),
    ],
    [
      [403, 'cross_site_refused'],
      [403, 'form_refused'],
      [415, 'form_refused'],
    ],
  );
});

test('a refused device approval form is recorded as form_refused or cross_site_refused', async () => {
  const proxy = await setUp();
  const approve = '/.postern/cli/device/approve';
  const back = await signIn(
    proxy,
    await send(proxy.port, { path: '/.postern/cli/device' }),
    'alice',
  );
  const device = cookies(back.headers['set-cookie']).find((c) =>
    c.startsWith('__Host-postern-device='),
  );
  assert.ok(device, back.text);
  const started = await send(proxy.port, { method: 'POST', path: '/.postern/cli/device' });
  const userCode = String((JSON.parse(started.text) as { user_code: string }).user_code);
  assert.deepEqual(
    [
      await outcome(proxy, form(`${approve}?user_code=${userCode}`, {})),
      await outcome(proxy, form('/.postern/cli/device/deny', {}, CROSS_SITE)),
      await outcome(proxy, form(approve, { user_code: 'x'.repeat(4096) })),
      await outcome(
        proxy,
        form(approve, { user_code: userCode, csrf: 'forged' }, { cookie: device }),
      ),
    ],
    [
      [400, 'form_refused'],
      [403, 'cross_site_refused'],
      [413, 'form_refused'],
      [403, 'form_refused'],
    ],
  );
});

test('a refused CLI login confirmation is recorded as form_refused or cross_site_refused', async () => {
  const proxy = await setUp();
  const login = '/.postern/cli/login';
  const query = new URLSearchParams({
    callback: 'http://127.0.0.1:9/callback',
    state: 'client-state-0123456789',
    code_challenge: 'c'.repeat(43),
    code_challenge_method: 'S256',
  });
  const page = await signIn(
    proxy,
    await send(proxy.port, { path: `${login}?${query.toString()}` }),
    'alice',
  );
  const confirm = /name="confirm" value="([^"]+)"/.exec(page.text)?.[1];
  assert.ok(confirm, page.text);
  assert.deepEqual(
    [
      await outcome(proxy, form(`${login}?decision=allow`, {})),
      await outcome(proxy, form(login, { confirm, decision: 'allow' }, CROSS_SITE)),
      await outcome(proxy, form(login, { confirm, decision: 'maybe' })),
      // Sent without the cookie that binds the confirmation to the browser it was shown in.
      await outcome(proxy, form(login, { confirm, decision: 'allow' })),
    ],
    [
      [400, 'form_refused'],
      [403, 'cross_site_refused'],
      [403, 'form_refused'],
      [403, 'form_refused'],
    ],
  );
});
