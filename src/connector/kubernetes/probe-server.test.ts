import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startProbeServer } from './probe-server.js';

test('healthz and readyz answer 200 or 503 from the state, other paths 404', async () => {
  let ready = false;
  const server = await startProbeServer('127.0.0.1:0', { alive: () => true, ready: () => ready });
  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${server.address.port}${path}`);
    return [res.status, ((await res.json()) as { status: string }).status];
  };
  try {
    assert.deepEqual(await get('/healthz'), [200, 'ok']);
    assert.deepEqual(await get('/readyz'), [503, 'not connected']);
    ready = true;
    assert.deepEqual(await get('/readyz'), [200, 'ready']);
    assert.equal((await get('/metrics'))[0], 404);
  } finally {
    await server.close();
  }
});

test('readyz answers 503 draining with the reason while drained, ready again after', async () => {
  let reason: string | undefined = 'drained by the operator';
  const server = await startProbeServer('127.0.0.1:0', {
    alive: () => true,
    ready: () => true,
    draining: () => reason,
  });
  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${server.address.port}${path}`);
    return [res.status, await res.json()];
  };
  try {
    assert.deepEqual(await get('/readyz'), [
      503,
      { status: 'draining', reason: 'drained by the operator' },
    ]);
    assert.deepEqual(await get('/healthz'), [200, { status: 'ok' }]);
    reason = undefined;
    assert.deepEqual(await get('/readyz'), [200, { status: 'ready' }]);
  } finally {
    await server.close();
  }
});

test('a listen address that is not host:port is refused with a coded error', async () => {
  await assert.rejects(startProbeServer('nonsense', { alive: () => true, ready: () => true }), {
    code: 'POSTERN_ERR_INVALID_ARGUMENT',
  });
});

test('metrics are served at /metrics with the registry content type when given', async () => {
  const registry = {
    contentType: 'text/plain; version=0.0.4; charset=utf-8',
    metrics: () => Promise.resolve('postern_connector_sessions_total 3\n'),
  };
  const server = await startProbeServer('127.0.0.1:0', {
    alive: () => true,
    ready: () => true,
    metrics: registry,
  });
  try {
    const res = await fetch(`http://127.0.0.1:${server.address.port}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), registry.contentType);
    assert.equal(await res.text(), 'postern_connector_sessions_total 3\n');
    const health = await fetch(`http://127.0.0.1:${server.address.port}/healthz`);
    assert.equal(health.status, 200);
  } finally {
    await server.close();
  }
});
