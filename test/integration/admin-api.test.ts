import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import type { AuditRecord } from '../../src/store/index.js';
import {
  eventually,
  startTestConnector,
  startTestEdge,
  stopAllConnectors,
  type TestEdge,
} from '../harness/harness.js';

type Json = Record<string, unknown>;
interface Reply {
  status: number;
  body: Json;
  headers: Headers;
}

/** An admin API call with any token and headers. */
async function call(
  edge: TestEdge,
  method: string,
  path: string,
  o: { token?: string | null; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const token = o.token === undefined ? edge.adminToken : o.token;
  const res = await fetch(`${edge.adminUrl}/api/v1${path}`, {
    method,
    headers: {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(o.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...o.headers,
    },
    ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Json, headers: res.headers };
}

function codeOf(reply: Reply): unknown {
  return (reply.body.error as { code?: unknown } | undefined)?.code;
}

async function createToken(edge: TestEdge, name: string, role: string, extra: Json = {}) {
  const res = await call(edge, 'POST', '/admin-tokens', { body: { name, role, ...extra } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as { id: string; secret: string };
}

describe('admin API (session 2)', () => {
  let edge: TestEdge;
  const audited: AuditRecord[] = [];
  before(async () => {
    edge = await startTestEdge({ onAudit: (r) => audited.push(r) });
  });
  after(async () => {
    await stopAllConnectors();
    await edge.stop();
  });

  test('tokens: 401 without a valid token, 403 when the role is too weak, viewer reads only', async () => {
    const viewer = await createToken(edge, 'dash', 'viewer');
    const operator = await createToken(edge, 'ops', 'operator');
    assert.match(viewer.secret, /^pt1\./);
    for (const token of [null, 'wrong', `${viewer.secret}x`]) {
      const res = await call(edge, 'GET', '/connector-groups', { token });
      assert.equal(res.status, 401);
      assert.equal(codeOf(res), 'POSTERN_ERR_UNAUTHORIZED');
    }
    assert.equal(
      (await call(edge, 'GET', '/connector-groups', { token: viewer.secret })).status,
      200,
    );
    const denied = await call(edge, 'POST', '/connector-groups', {
      token: viewer.secret,
      body: { name: 'by-viewer' },
    });
    assert.equal(denied.status, 403);
    assert.equal(codeOf(denied), 'POSTERN_ERR_FORBIDDEN');
    const made = await call(edge, 'POST', '/connector-groups', {
      token: operator.secret,
      body: { name: 'by-operator' },
    });
    assert.equal(made.status, 201);
    for (const [method, path, body] of [
      ['GET', '/admin-tokens', undefined],
      ['POST', '/admin-tokens', { name: 'x', role: 'admin' }],
      ['POST', '/provisioning-keys', { group: 'by-operator' }],
    ] as const) {
      const res = await call(edge, method, path, { token: operator.secret, body });
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.equal(codeOf(res), 'POSTERN_ERR_FORBIDDEN');
    }
    const listed = await call(edge, 'GET', `/admin-tokens/${operator.id}`);
    assert.equal(listed.body.role, 'operator');
    assert.equal(typeof listed.body.last_used_at, 'string', 'use is recorded');
    assert.equal('secret' in listed.body, false, 'the secret is shown only at creation');
    assert.doesNotMatch(JSON.stringify((await call(edge, 'GET', '/admin-tokens')).body), /pt1\./);
    assert.equal((await call(edge, 'POST', `/admin-tokens/${operator.id}/revoke`)).status, 200);
    const revoked = await call(edge, 'GET', '/connector-groups', { token: operator.secret });
    assert.equal(revoked.status, 401);
    assert.match(String((revoked.body.error as Json).message), /revoked/);
    const expired = await createToken(edge, 'short', 'admin', {
      expires_at: new Date(Date.now() - 1000).toISOString(),
    });
    assert.equal((await call(edge, 'GET', '/pools', { token: expired.secret })).status, 401);
  });

  test('lists page with limit and page_token in a stable order; bad paging input is a 400', async () => {
    for (const name of ['pg-c', 'pg-a', 'pg-e', 'pg-b', 'pg-d']) {
      assert.equal((await call(edge, 'POST', '/connector-groups', { body: { name } })).status, 201);
    }
    const seen: string[] = [];
    let token: string | undefined;
    for (let page = 0; page < 20; page++) {
      const q = `?limit=2${token ? `&page_token=${encodeURIComponent(token)}` : ''}`;
      const res = await call(edge, 'GET', `/connector-groups${q}`);
      assert.equal(res.status, 200);
      const items = res.body.items as { name: string; etag: string }[];
      assert.ok(items.length <= 2);
      assert.ok(items.every((i) => typeof i.etag === 'string'));
      seen.push(...items.map((i) => i.name));
      token = res.body.next_page_token as string | undefined;
      if (token === undefined) {
        assert.equal('next_page_token' in res.body, false);
        break;
      }
    }
    assert.deepEqual(seen, [...seen].sort());
    assert.deepEqual(
      seen.filter((n) => n.startsWith('pg-')),
      ['pg-a', 'pg-b', 'pg-c', 'pg-d', 'pg-e'],
    );
    const bigLimit = await call(edge, 'GET', '/pools?limit=1001');
    assert.equal(bigLimit.status, 400);
    assert.equal(codeOf(bigLimit), 'POSTERN_ERR_BAD_REQUEST');
    const badToken = await call(edge, 'GET', '/connectors?page_token=nonsense');
    assert.equal(badToken.status, 400);
    assert.equal(codeOf(badToken), 'POSTERN_ERR_INVALID_PAGE_TOKEN');
  });

  test('objects carry an ETag; a stale If-Match is 412 and changes nothing', async () => {
    await call(edge, 'POST', '/connector-groups', { body: { name: 'etag-g' } });
    const read = await call(edge, 'GET', '/connector-groups/etag-g');
    const etag = read.headers.get('etag');
    assert.ok(etag);
    assert.equal(read.body.etag, etag);
    const put = await call(edge, 'PUT', '/connector-groups/etag-g', {
      body: { auto_delete_after_days: 7 },
      headers: { 'if-match': etag },
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body.auto_delete_after_days, 7);
    assert.notEqual(put.body.etag, etag);
    const stale = await call(edge, 'DELETE', '/connector-groups/etag-g', {
      headers: { 'if-match': etag },
    });
    assert.equal(stale.status, 412);
    assert.equal(codeOf(stale), 'POSTERN_ERR_PRECONDITION_FAILED');
    assert.equal((await call(edge, 'GET', '/connector-groups/etag-g')).status, 200);
    const monitor = await call(edge, 'POST', '/monitors', { body: { name: 'm1', type: 'tcp' } });
    assert.equal(monitor.status, 201, JSON.stringify(monitor.body));
    const patched = await call(edge, 'PATCH', '/monitors/m1', {
      body: { timeout_ms: 1500 },
      headers: { 'if-match': String(monitor.body.etag) },
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.timeout_ms, 1500);
    const gone = await call(edge, 'DELETE', '/connector-groups/etag-g', {
      headers: { 'if-match': String(put.body.etag) },
    });
    assert.equal(gone.status, 204);
  });

  test('every change is audited with actor, before and after, secrets redacted', async () => {
    const ops = await createToken(edge, 'auditor', 'operator');
    await call(edge, 'POST', '/connector-groups', { body: { name: 'aud-g' } });
    const key = await call(edge, 'POST', '/provisioning-keys', { body: { group: 'aud-g' } });
    assert.equal(key.status, 201);
    await call(edge, 'PUT', '/connector-groups/aud-g', {
      token: ops.secret,
      body: { description: 'audited' },
    });
    const failed = await call(edge, 'DELETE', '/pools/missing', { token: ops.secret });
    assert.equal(failed.status, 404);
    const log = await call(edge, 'GET', '/audit-log?kind=connector_group&actor=token%3Aauditor');
    const [update] = log.body.items as Json[];
    assert.equal(update?.method, 'PUT');
    assert.equal(update?.name, 'aud-g');
    assert.equal(update?.outcome, 'success');
    assert.equal(update?.source, '127.0.0.1', 'the stored record shows the loopback client');
    assert.equal((update?.before as Json).description, undefined);
    assert.equal((update?.after as Json).description, 'audited');
    const failures = await call(edge, 'GET', '/audit-log?actor=token%3Aauditor&kind=pool');
    assert.deepEqual(
      (failures.body.items as Json[]).map((r) => [r.outcome, r.status, r.error_code]),
      [['failure', 404, 'POSTERN_ERR_NOT_FOUND']],
    );
    const all = JSON.stringify((await call(edge, 'GET', '/audit-log?limit=1000')).body);
    assert.ok(!all.includes(String(key.body.value)), 'the key value never reaches the log');
    assert.ok(!all.includes(ops.secret), 'nor does a token secret');
    const keyRecord = audited.find(
      (r) => r.kind === 'provisioning_key' && r.method === 'POST' && r.outcome === 'success',
    );
    assert.ok(
      audited.some((r) => r.actor === 'token:ops' && r.status === 403),
      'refused changes are audited too',
    );
    assert.equal(keyRecord?.actor, 'bootstrap');
    assert.equal(keyRecord?.name, key.body.id);
    assert.ok(
      audited.some((r) => r.actor === 'token:auditor'),
      'onAudit saw the records',
    );
    const page = await call(edge, 'GET', '/audit-log?limit=2');
    assert.equal((page.body.items as Json[]).length, 2);
    const next = await call(
      edge,
      'GET',
      `/audit-log?limit=2&page_token=${encodeURIComponent(String(page.body.next_page_token))}`,
    );
    const ids = [...(page.body.items as Json[]), ...(next.body.items as Json[])].map((r) => r.id);
    assert.equal(new Set(ids).size, 4);
    assert.deepEqual(ids, [...ids].sort().reverse(), 'newest first');
    const future = await call(
      edge,
      'GET',
      `/audit-log?since=${new Date(Date.now() + 60_000).toISOString()}`,
    );
    assert.deepEqual(future.body.items, []);
  });

  test('access policies keep an explicit order that the edge applies after document ones', async () => {
    for (const name of ['pol-a', 'pol-b', 'pol-c']) {
      const res = await call(edge, 'POST', '/access-policies', { body: { name, action: 'allow' } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
    const names = async () =>
      ((await call(edge, 'GET', '/access-policies')).body.items as Json[]).map((p) => p.name);
    assert.deepEqual(await names(), ['pol-a', 'pol-b', 'pol-c'], 'creation order at first');
    const order = await call(edge, 'PUT', '/access-policies/order', {
      body: { names: ['pol-c', 'pol-a', 'pol-b'] },
    });
    assert.equal(order.status, 200, JSON.stringify(order.body));
    assert.deepEqual(await names(), ['pol-c', 'pol-a', 'pol-b']);
    assert.deepEqual(
      edge.runtime.config.access_policies.map((p) => p.name),
      ['pol-c', 'pol-a', 'pol-b'],
    );
    assert.deepEqual((await call(edge, 'GET', '/access-policies/order')).body.names, [
      'pol-c',
      'pol-a',
      'pol-b',
    ]);
    const bad = await call(edge, 'PUT', '/access-policies/order', { body: { names: ['pol-c'] } });
    assert.equal(bad.status, 400);
    assert.equal(codeOf(bad), 'POSTERN_ERR_POLICY_ORDER');
  });

  test('drain marks a connector draining (kept in the store, even when disconnected) until undrain; status fields are shown', async () => {
    const key = await edge.createKey('drain-g');
    const connector = await startTestConnector({ provisionKey: key.value });
    const id = connector.identity?.connectorId ?? '';
    const shown = await call(edge, 'GET', `/connectors/${id}`);
    assert.equal(shown.body.status, 'connected');
    assert.deepEqual(
      (shown.body.edges_connected as { server_id: string }[]).map((e) => e.server_id),
      [edge.serverId],
    );
    assert.equal(typeof shown.body.cert_not_after, 'string');
    assert.equal(typeof shown.body.last_seen_at, 'string');
    const drained = await call(edge, 'POST', `/connectors/${id}/drain`);
    assert.equal(drained.status, 202, JSON.stringify(drained.body));
    assert.equal(edge.registry.get(id)?.draining, true);
    assert.equal((await call(edge, 'GET', `/connectors/${id}`)).body.status, 'draining');
    const unknown = await call(edge, 'POST', '/connectors/nope/drain');
    assert.equal(unknown.status, 404);
    assert.equal(codeOf(unknown), 'POSTERN_ERR_NOT_FOUND');
    await connector.stop({ drainTimeoutMs: 100 });
    await eventually(() => !edge.registry.get(id), 'the tunnel to close');
    // The drain outlives the tunnel: it is recorded in the store for every edge and reconnects.
    const notHere = await call(edge, 'POST', `/connectors/${id}/drain`);
    assert.equal(notHere.status, 202);
    assert.equal(notHere.body.draining, true);
    assert.equal((await edge.store.connectors.get(id))?.drainingSince !== undefined, true);
    const undrained = await call(edge, 'POST', `/connectors/${id}/undrain`);
    assert.equal(undrained.status, 200, JSON.stringify(undrained.body));
    assert.equal(undrained.body.draining, false);
    assert.equal((await edge.store.connectors.get(id))?.drainingSince, undefined);
  });

  test('auto-delete removes a connector disconnected longer than its group allows', async () => {
    const key = await edge.createKey('auto-g');
    await call(edge, 'PUT', '/connector-groups/auto-g', { body: { auto_delete_after_days: 1 } });
    const connector = await startTestConnector({ provisionKey: key.value });
    const id = connector.identity?.connectorId ?? '';
    assert.deepEqual(await edge.autoDelete.sweep(), [], 'a connected one stays');
    await connector.stop({ drainTimeoutMs: 100 });
    await eventually(() => !edge.registry.get(id), 'the tunnel to close');
    await edge.store.connectors.update(id, { lastSeenAt: Date.now() - 2 * 24 * 3600 * 1000 });
    assert.deepEqual(await edge.autoDelete.sweep(), [id]);
    assert.equal((await call(edge, 'GET', `/connectors/${id}`)).status, 404);
    const log = await call(edge, 'GET', '/audit-log?actor=system%3Aauto-delete');
    assert.equal((log.body.items as Json[])[0]?.name, id);
    assert.equal((log.body.items as Json[])[0]?.source, undefined, 'no request, no source');
  });

  test('the OpenAPI document describes the new routes, paging, If-Match and bodies', async () => {
    type Op = {
      parameters?: { name: string; in: string }[];
      requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
      responses: Record<string, unknown>;
    };
    const doc = (await (await fetch(`${edge.adminUrl}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, Op>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    const op = (path: string, method: string): Op => {
      const found = doc.paths[path]?.[method];
      assert.ok(found, `${method.toUpperCase()} ${path}`);
      return found;
    };
    const params = (o: Op) => (o.parameters ?? []).map((p) => `${p.in}:${p.name}`);
    const bodyRef = (o: Op) => o.requestBody?.content['application/json']?.schema.$ref;
    for (const path of ['/api/v1/connector-groups', '/api/v1/admin-tokens', '/api/v1/pools']) {
      assert.ok(params(op(path, 'get')).includes('query:page_token'), path);
    }
    assert.deepEqual(
      params(op('/api/v1/audit-log', 'get')).filter((p) => p !== 'query:page_token'),
      ['query:limit', 'query:kind', 'query:actor', 'query:since', 'query:until'],
    );
    assert.ok(params(op('/api/v1/connector-groups/{name}', 'put')).includes('header:If-Match'));
    assert.ok(op('/api/v1/connector-groups/{name}', 'delete').responses['412']);
    assert.equal(
      bodyRef(op('/api/v1/admin-tokens', 'post')),
      '#/components/schemas/AdminTokenCreate',
    );
    assert.equal(
      bodyRef(op('/api/v1/access-policies/order', 'put')),
      '#/components/schemas/PolicyOrder',
    );
    assert.equal(
      bodyRef(op('/api/v1/provisioning-keys/{id}', 'patch')),
      '#/components/schemas/ProvisioningKeyPatch',
    );
    assert.equal(
      bodyRef(op('/api/v1/access-policies', 'post')),
      '#/components/schemas/AccessPolicy',
    );
    assert.equal(op('/api/v1/connectors/{id}/drain', 'post').requestBody, undefined);
    op('/api/v1/admin-tokens/{id}/revoke', 'post');
    op('/api/v1/applications/{name}', 'patch');
    assert.ok(doc.components.schemas.AdminTokenCreate?.properties?.role);
    assert.ok(doc.components.schemas.Page?.properties?.next_page_token);
  });

  test('errors have one shape: unknown routes, bad JSON and bad bodies carry a POSTERN code', async () => {
    const missing = await call(edge, 'GET', '/no-such-thing');
    assert.equal(missing.status, 404);
    assert.equal(codeOf(missing), 'POSTERN_ERR_NOT_FOUND');
    const res = await fetch(`${edge.adminUrl}/api/v1/connector-groups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${edge.adminToken}`, 'content-type': 'application/json' },
      body: '{not json',
    });
    assert.equal(res.status, 400);
    assert.equal(
      ((await res.json()) as { error: { code: string } }).error.code,
      'POSTERN_ERR_BAD_REQUEST',
    );
    const invalid = await call(edge, 'POST', '/admin-tokens', {
      body: { name: 'x', role: 'root' },
    });
    assert.equal(invalid.status, 400);
    assert.equal(codeOf(invalid), 'POSTERN_ERR_BAD_REQUEST');
  });

  test('PATCH takes the JSON merge patch media type; a body of a type the API does not read is a 415 naming what to send', async () => {
    const created = await call(edge, 'POST', '/pools', {
      body: { name: 'merge', nodes: [{ address: '127.0.0.1:1' }] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const patched = await fetch(`${edge.adminUrl}/api/v1/pools/merge`, {
      method: 'PATCH',
      headers: {
        authorization: `Bearer ${edge.adminToken}`,
        'content-type': 'application/merge-patch+json',
      },
      body: JSON.stringify({ nodes: [{ address: '127.0.0.1:2' }] }),
    });
    assert.equal(patched.status, 200, await patched.clone().text());
    const shown = await call(edge, 'GET', '/pools/merge');
    assert.equal((shown.body.nodes as { address: string }[])[0]?.address, '127.0.0.1:2');
    const form = await fetch(`${edge.adminUrl}/api/v1/connector-groups`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${edge.adminToken}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'name=x',
    });
    assert.equal(form.status, 415);
    const error = ((await form.json()) as { error: { code: string; message: string } }).error;
    assert.equal(error.code, 'POSTERN_ERR_UNSUPPORTED_MEDIA_TYPE');
    assert.match(error.message, /"application\/x-www-form-urlencoded"/);
    assert.match(error.message, /application\/json/);
  });

  test('a bad body is worded like a document problem: a misspelt field names the one it means, every problem at once', async () => {
    const res = await call(edge, 'POST', '/pools', {
      body: { name: 'typo', nodes: [{ adress: '127.0.0.1:1' }], algoritm: 'round_robin' },
    });
    assert.equal(res.status, 400);
    assert.equal(codeOf(res), 'POSTERN_ERR_BAD_REQUEST');
    const message = (res.body as { error: { message: string } }).error.message;
    assert.match(message, /nodes\.0: unknown field "adress"; did you mean "address"\?/);
    assert.match(message, /\(body\): unknown field "algoritm"; did you mean "algorithm"\?/);
    assert.match(message, /nodes\.0\.address: is required/);
    assert.equal((await call(edge, 'GET', '/pools/typo')).status, 404, 'nothing was created');
  });
});

test('an edge that requires If-Match refuses changes without it (428)', async () => {
  const edge = await startTestEdge({ adminRequireIfMatch: true });
  try {
    await call(edge, 'POST', '/connector-groups', { body: { name: 'strict' } });
    const res = await call(edge, 'DELETE', '/connector-groups/strict');
    assert.equal(res.status, 428);
    assert.equal(codeOf(res), 'POSTERN_ERR_PRECONDITION_REQUIRED');
    const etag = (await call(edge, 'GET', '/connector-groups/strict')).headers.get('etag') ?? '';
    const ok = await call(edge, 'DELETE', '/connector-groups/strict', {
      headers: { 'if-match': etag },
    });
    assert.equal(ok.status, 204);
  } finally {
    await edge.stop();
  }
});

test('each admin request is logged once, with method, path (no query), status and time', async () => {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const edge = await startTestEdge({ logger });
  try {
    const before = lines.length;
    const res = await fetch(`${edge.adminUrl}/api/v1/pools/none?limit=5`, {
      headers: { authorization: `Bearer ${edge.adminToken}` },
    });
    assert.equal(res.status, 404);
    const logged = lines.slice(before).filter((l) => l['component'] === 'admin-api');
    assert.equal(logged.length, 1, JSON.stringify(logged));
    assert.equal(logged[0]?.['msg'], 'admin request');
    assert.equal(logged[0]?.['method'], 'GET');
    assert.equal(logged[0]?.['url'], '/api/v1/pools/none');
    assert.equal(logged[0]?.['status'], 404);
    assert.equal(typeof logged[0]?.['ms'], 'number');
  } finally {
    await edge.stop();
  }
});
