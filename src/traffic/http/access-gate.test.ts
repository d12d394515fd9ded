import test from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AccessGate, AccessGateRequest } from './access-gate.js';
import { makePool, send, startBackend, startProxy } from './test-kit.js';

/** A gate that answers /.postern/* and /blocked itself, and marks everything else. */
function scriptedGate(seen: AccessGateRequest[]): AccessGate {
  return {
    check(request) {
      seen.push(request);
      if (request.target.startsWith('/.postern/') || request.target === '/blocked') {
        return Promise.resolve({
          respond: { status: 403, headers: { 'x-gate': 'yes' }, body: 'no entry' },
        });
      }
      if (request.target === '/broken') return Promise.reject(new Error('gate failed'));
      return Promise.resolve({
        allow: true,
        remove: ['x-user'],
        headers: { 'X-User': 'alice', 'X-Extra': '1' },
      });
    },
  };
}

test('a gate answer is sent to the client and nothing reaches the node', async () => {
  const backend = await startBackend('b');
  const seen: AccessGateRequest[] = [];
  const proxy = await startProxy({
    pool: makePool('p', [backend.address]),
    gate: scriptedGate(seen),
  });
  try {
    for (const path of ['/blocked', '/.postern/jwks.json']) {
      const res = await send(proxy.port, { path, headers: { host: 'app.example' } });
      assert.equal(res.status, 403);
      assert.equal(res.text, 'no entry');
      assert.equal(res.headers['x-gate'], 'yes');
    }
    assert.equal(backend.seen.length, 0);
    assert.equal(seen[0]?.virtualServer, 'test');
    assert.equal(seen[0]?.host, 'app.example');
    assert.equal(seen[0]?.clientIp, '127.0.0.1');
    assert.equal(proxy.vs.activeRequests, 0);
  } finally {
    await proxy.close();
    await backend.close();
  }
});

test('an allowed request goes upstream with the spoofed header replaced by the gate', async () => {
  const backend = await startBackend('b');
  const proxy = await startProxy({
    pool: makePool('p', [backend.address]),
    gate: scriptedGate([]),
  });
  try {
    const res = await send(proxy.port, { path: '/page', headers: { 'x-user': 'mallory' } });
    assert.equal(res.status, 200);
    assert.equal(res.text, 'backend b');
    assert.equal(backend.seen[0]?.headers['x-user'], 'alice');
    assert.equal(backend.seen[0]?.headers['x-extra'], '1');
  } finally {
    await proxy.close();
    await backend.close();
  }
});

test('a gate that fails closes the connection instead of letting the request through', async () => {
  const backend = await startBackend('b');
  const proxy = await startProxy({
    pool: makePool('p', [backend.address]),
    gate: scriptedGate([]),
  });
  try {
    await assert.rejects(send(proxy.port, { path: '/broken' }));
    assert.equal(backend.seen.length, 0);
  } finally {
    await proxy.close();
    await backend.close();
  }
});

test('an Upgrade request the gate refuses gets the gate answer on the raw socket', async () => {
  const backend = await startBackend('b');
  const proxy = await startProxy({
    pool: makePool('p', [backend.address]),
    gate: scriptedGate([]),
  });
  try {
    const socket = net.connect(proxy.port, '127.0.0.1');
    socket.write(
      'GET /blocked HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
    );
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => (text += c));
    await new Promise<void>((resolve, reject) => {
      socket.once('close', () => resolve());
      socket.once('error', reject);
    });
    assert.match(text, /^HTTP\/1\.1 403 /);
    assert.match(text, /no entry$/);
    assert.equal(backend.seen.length, 0);
  } finally {
    await proxy.close();
    await backend.close();
  }
});

test('a gate limited to some paths is not asked about the others', async () => {
  const backend = await startBackend('b');
  const seen: AccessGateRequest[] = [];
  const gate = { ...scriptedGate(seen), onlyPaths: ['/.postern/'] };
  const proxy = await startProxy({ pool: makePool('p', [backend.address]), gate });
  try {
    const plain = await send(proxy.port, { path: '/blocked', headers: { 'x-user': 'mallory' } });
    assert.equal(plain.status, 200, 'not a gated path: proxied untouched');
    assert.equal(backend.seen[0]?.headers['x-user'], 'mallory');
    const own = await send(proxy.port, { path: '/.postern/jwks.json' });
    assert.equal(own.status, 403);
    assert.deepEqual(
      seen.map((r) => r.target),
      ['/.postern/jwks.json'],
    );
  } finally {
    await proxy.close();
    await backend.close();
  }
});
