import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import net from 'node:net';
import {
  eventually,
  freePort,
  roundTrip,
  startEchoServer,
  startTestConnector,
  startTestEdge,
  tempDir,
} from '../harness/harness.js';

test('objects from configuration documents serve traffic and are read-only through the API', async () => {
  const app = await startEchoServer();
  const port = await freePort();
  const configDir = await tempDir('postern-config-');
  await writeFile(
    join(configDir, '10-echo.yaml'),
    [
      'version: 1',
      'connector_groups:',
      '  - name: site-a',
      'pools:',
      '  - name: echo',
      '    via: site-a            # reached through a connector of this group',
      '    nodes:',
      `      - address: ${app.address}`,
      'virtual_servers:',
      '  - name: echo',
      '    protocol: tcp',
      `    listen: 127.0.0.1:${port}`,
      '    pool: echo',
      '',
    ].join('\n'),
  );
  const edge = await startTestEdge({ configDir });
  try {
    const key = await edge.createKey('site-a');
    await startTestConnector({ provisionKey: key.value });
    assert.equal(
      (await roundTrip(port, Buffer.from('from a document'))).toString(),
      'from a document',
    );
    const pool = await edge.api<{ owner: string }>('GET', '/pools/echo');
    assert.equal(pool.body.owner, 'document:10-echo.yaml');
    const put = await edge.api<{ error: { code: string; message: string } }>('PUT', '/pools/echo', {
      nodes: [{ address: '127.0.0.1:1' }],
    });
    assert.equal(put.status, 403);
    assert.equal(put.body.error.code, 'POSTERN_ERR_READ_ONLY');
    assert.match(put.body.error.message, /10-echo\.yaml/);
    const del = await edge.api('DELETE', '/virtual-servers/echo');
    assert.equal(del.status, 403);
  } finally {
    await edge.stop();
    await app.close();
  }
});

test('a broken document stops the edge from starting and names file, line and field', async () => {
  const configDir = await tempDir('postern-config-');
  await mkdir(configDir, { recursive: true });
  await writeFile(
    join(configDir, 'broken.yaml'),
    [
      'version: 1',
      'pools:',
      '  - name: echo',
      '    nodes:',
      '      - address: no-port-here',
      '    colour: blue',
      '',
    ].join('\n'),
  );
  await assert.rejects(startTestEdge({ configDir }), (err: { code: string; message: string }) => {
    assert.equal(err.code, 'POSTERN_ERR_CONFIG_INVALID');
    assert.match(err.message, /broken\.yaml:5/);
    assert.match(err.message, /pools\[0\]\.nodes\[0\]\.address/);
    assert.match(err.message, /broken\.yaml:6/);
    assert.match(err.message, /colour/);
    return true;
  });
});

test('a virtual server with a dangling pool reference is refused through the API and changes nothing', async () => {
  const edge = await startTestEdge();
  try {
    const res = await edge.api<{ error: { code: string } }>('POST', '/virtual-servers', {
      name: 'dangling',
      listen: `127.0.0.1:${await freePort()}`,
      pool: 'nope',
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'POSTERN_ERR_CONFIG_REFERENCE');
    assert.equal((await edge.api('GET', '/virtual-servers/dangling')).status, 404);
  } finally {
    await edge.stop();
  }
});

test('a virtual server whose address is taken is refused with POSTERN_ERR_LISTEN_FAILED', async () => {
  const edge = await startTestEdge();
  const app = await startEchoServer();
  try {
    await edge.api('POST', '/pools', { name: 'p', nodes: [{ address: app.address }] });
    const res = await edge.api<{ error: { code: string } }>('POST', '/virtual-servers', {
      name: 'taken',
      listen: app.address,
      pool: 'p',
    });
    assert.equal(res.status, 409);
    assert.equal(res.body.error.code, 'POSTERN_ERR_LISTEN_FAILED');
    assert.equal((await edge.api('GET', '/virtual-servers/taken')).status, 404);
  } finally {
    await edge.stop();
    await app.close();
  }
});

test('a direct pool (no via) is dialed from the edge itself', async () => {
  const edge = await startTestEdge();
  const app = await startEchoServer();
  try {
    const port = await freePort();
    await edge.api('POST', '/pools', { name: 'direct', nodes: [{ address: app.address }] });
    await edge.api('POST', '/virtual-servers', {
      name: 'direct',
      listen: `127.0.0.1:${port}`,
      pool: 'direct',
    });
    assert.equal((await roundTrip(port, Buffer.from('direct'))).toString(), 'direct');
  } finally {
    await edge.stop();
    await app.close();
  }
});

test('a removed virtual server stops accepting at once while its sessions in flight finish', async () => {
  const edge = await startTestEdge();
  const app = await startEchoServer();
  try {
    const port = await freePort();
    await edge.api('POST', '/pools', { name: 'p', nodes: [{ address: app.address }] });
    await edge.api('POST', '/virtual-servers', {
      name: 'going',
      listen: `127.0.0.1:${port}`,
      pool: 'p',
    });
    const held = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    held.on('data', (c: Buffer) => chunks.push(c));
    held.write('before ');
    await eventually(() => Buffer.concat(chunks).toString() === 'before ', 'first echo');
    assert.equal((await edge.api('DELETE', '/virtual-servers/going')).status, 204);
    await assert.rejects(roundTrip(port, Buffer.from('new')), { code: 'ECONNREFUSED' });
    held.end('after');
    await new Promise((resolve) => held.once('end', resolve));
    assert.equal(Buffer.concat(chunks).toString(), 'before after');
  } finally {
    await edge.stop();
    await app.close();
  }
});
