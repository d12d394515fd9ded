import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { once } from 'node:events';
import { mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import {
  createCertificateAuthority,
  loadCertificateAuthority,
  type CertificateAuthority,
} from '../../src/pki/index.js';
import {
  eventually,
  freePort,
  startTestConnector,
  startTestEdge,
  tempDir,
} from '../harness/harness.js';

let ca: CertificateAuthority;
before(async () => {
  ca = await loadCertificateAuthority(
    await createCertificateAuthority({ commonName: 'Test web CA' }),
  );
});

interface Backend {
  readonly address: string;
  readonly server: http.Server;
  readonly hits: () => number;
  healthy: boolean;
}

async function backend(name: string): Promise<Backend> {
  let hits = 0;
  const state = { healthy: true };
  const server = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      res.statusCode = state.healthy ? 200 : 500;
      res.end(state.healthy ? 'ok' : 'sick');
      return;
    }
    hits += 1;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ name, url: req.url, headers: req.headers }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const b = {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    hits: () => hits,
    get healthy() {
      return state.healthy;
    },
    set healthy(v: boolean) {
      state.healthy = v;
    },
  };
  return b;
}

async function get(
  url: string,
  options: https.RequestOptions = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const mod = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { agent: false, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** Which backend answered (each echoes its name). */
function servedBy(response: { body: string }): string {
  return (JSON.parse(response.body) as { name: string }).name;
}

const closeAll = (...servers: { close(): unknown }[]) => servers.forEach((s) => s.close());

test('a document change is live without restart; a broken one keeps traffic on the last good generation', async () => {
  const a = await backend('a');
  const b = await backend('b');
  const port = await freePort();
  const dir = await tempDir('postern-live-');
  const doc = (node: string) =>
    `version: 1\npools:\n  - name: web\n    nodes:\n      - address: ${node}\nvirtual_servers:\n  - name: web\n    protocol: http\n    listen: 127.0.0.1:${port}\n    pool: web\n`;
  await writeFile(join(dir, 'web.yaml'), doc(a.address));
  const edge = await startTestEdge({ configDir: dir });
  try {
    const url = `http://127.0.0.1:${port}/`;
    assert.equal(servedBy(await get(url)), 'a');
    await writeFile(join(dir, 'web.yaml'), doc(b.address));
    await eventually(async () => servedBy(await get(url)) === 'b', 'the new node serving', 5000);

    await writeFile(join(dir, 'web.yaml'), `${doc(a.address)}    colour: blue\n`);
    const status = await eventually(
      async () => {
        const s = await edge.api<{
          ok: boolean;
          problems: { file: string; line: number; message: string }[];
        }>('GET', '/import/status');
        return s.body.ok === false ? s.body : undefined;
      },
      'the import status to report the broken document',
      5000,
    );
    assert.ok(status);
    assert.equal(status.problems[0]?.file, 'web.yaml');
    assert.equal(status.problems[0]?.line, 11);
    assert.match(JSON.stringify(status.problems), /colour/);
    assert.equal(servedBy(await get(url)), 'b', 'still the last good generation');
    const metrics = await (await fetch(`${edge.adminUrl}/metrics`)).text();
    assert.match(metrics, /postern_edge_config_import_ok 0/);

    await writeFile(join(dir, 'web.yaml'), doc(a.address));
    await eventually(
      async () => servedBy(await get(url)) === 'a',
      'the fixed document applied',
      5000,
    );
    const pool = await edge.api<{ owner: string }>('GET', '/pools/web');
    assert.equal(pool.body.owner, 'document:web.yaml');
  } finally {
    await edge.stop();
    closeAll(a.server, b.server);
  }
});

test('a ConfigMap-style ..data symlink swap is applied', async () => {
  const a = await backend('a');
  const b = await backend('b');
  const port = await freePort();
  const dir = await tempDir('postern-configmap-');
  const doc = (node: string) =>
    `version: 1\npools:\n  - name: web\n    nodes:\n      - address: ${node}\nvirtual_servers:\n  - name: web\n    protocol: http\n    listen: 127.0.0.1:${port}\n    pool: web\n`;
  await mkdir(join(dir, '..2026_11_22_00_00_00.1'));
  await writeFile(join(dir, '..2026_11_22_00_00_00.1', 'web.yaml'), doc(a.address));
  await symlink('..2026_11_22_00_00_00.1', join(dir, '..data'));
  await symlink('..data/web.yaml', join(dir, 'web.yaml'));
  const edge = await startTestEdge({ configDir: dir });
  try {
    const url = `http://127.0.0.1:${port}/`;
    assert.equal(servedBy(await get(url)), 'a');
    await mkdir(join(dir, '..2026_11_22_00_00_00.2'));
    await writeFile(join(dir, '..2026_11_22_00_00_00.2', 'web.yaml'), doc(b.address));
    await symlink('..2026_11_22_00_00_00.2', join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    await eventually(
      async () => servedBy(await get(url)) === 'b',
      'the swapped ConfigMap applied',
      6000,
    );
  } finally {
    await edge.stop();
    closeAll(a.server, b.server);
  }
});

test('an https virtual server terminates TLS by SNI with valueFrom certificates and routes by host through a connector', async () => {
  const web = await backend('web');
  const api = await backend('api');
  const port = await freePort();
  const dir = await tempDir('postern-https-');
  const cert = await ca.issueServerCertificate({
    dnsNames: ['web.example.test', 'api.example.test'],
  });
  await mkdir(join(dir, 'tls', 'app'), { recursive: true });
  await writeFile(join(dir, 'tls', 'app', 'tls.crt'), cert.certPem);
  await writeFile(join(dir, 'tls', 'app', 'tls.key'), cert.keyPem);
  await writeFile(
    join(dir, 'site.yaml'),
    [
      'version: 1',
      'connector_groups: [{ name: site-a }]',
      'certificates:',
      '  - name: app',
      '    cert: { valueFrom: { fileRef: { name: tls/app/tls.crt } } }',
      '    key: { valueFrom: { fileRef: { name: tls/app/tls.key } } }',
      'rules:',
      '  - name: stamp',
      '    request: [{ set_header: { name: X-Stamp, value: edge } }]',
      '    response: [{ set_header: { name: X-Served-Via, value: postern } }]',
      'pools:',
      `  - { name: web, via: site-a, nodes: [{ address: "${web.address}" }] }`,
      `  - { name: api, via: site-a, nodes: [{ address: "${api.address}" }] }`,
      'virtual_servers:',
      '  - name: front',
      '    protocol: https',
      `    listen: 127.0.0.1:${port}`,
      '    pool: web',
      '    routes: [{ host: api.example.test, pool: api }]',
      '    tls: { certificates: [app] }',
      '    rules: [stamp]',
      '',
    ].join('\n'),
  );
  const edge = await startTestEdge({ configDir: dir });
  try {
    const key = await edge.createKey('site-a');
    await startTestConnector({ provisionKey: key.value });
    const opts = (host: string) => ({ ca: ca.certPem, servername: host, headers: { host } });
    const toApi = await get(`https://127.0.0.1:${port}/v1/things`, opts('api.example.test'));
    assert.equal(toApi.status, 200);
    const apiBody = JSON.parse(toApi.body) as {
      name: string;
      url: string;
      headers: Record<string, string>;
    };
    assert.equal(apiBody.name, 'api');
    assert.equal(apiBody.url, '/v1/things');
    assert.equal(apiBody.headers['x-stamp'], 'edge');
    assert.equal(apiBody.headers['x-forwarded-proto'], 'https');
    assert.equal(apiBody.headers['x-forwarded-host'], 'api.example.test');
    assert.match(apiBody.headers['x-forwarded-for'] ?? '', /127\.0\.0\.1/);
    assert.equal(toApi.headers['x-served-via'], 'postern');
    const toWeb = await get(`https://127.0.0.1:${port}/`, opts('web.example.test'));
    assert.equal(servedBy(toWeb), 'web');
    const listed = await edge.api<{ items: { name: string; key: string }[] }>(
      'GET',
      '/certificates',
    );
    assert.equal(listed.body.items[0]?.key, '[redacted]', 'private keys never leave the edge');
  } finally {
    await edge.stop();
    closeAll(web.server, api.server);
  }
});

test('a monitor takes a failing node out, and its health survives a reload', async () => {
  const good = await backend('good');
  const bad = await backend('bad');
  bad.healthy = false;
  const edge = await startTestEdge();
  try {
    const port = await freePort();
    await edge.api('POST', '/monitors', {
      name: 'hc',
      type: 'http',
      path: '/healthz',
      delay_ms: 100,
      timeout_ms: 500,
      failures: 1,
      successes: 1,
    });
    const created = await edge.api('POST', '/pools', {
      name: 'web',
      monitors: ['hc'],
      nodes: [{ address: bad.address }, { address: good.address }],
    });
    assert.equal(created.status, 201);
    await edge.api('POST', '/virtual-servers', {
      name: 'web',
      protocol: 'http',
      listen: `127.0.0.1:${port}`,
      pool: 'web',
    });
    const healthOf = async (address: string) => {
      const pool = await edge.api<{ status: { nodes: { address: string; health: string }[] } }>(
        'GET',
        '/pools/web',
      );
      return pool.body.status.nodes.find((n) => n.address === address)?.health;
    };
    await eventually(
      async () => (await healthOf(bad.address)) === 'down',
      'the failing node marked down',
      5000,
    );
    for (let i = 0; i < 6; i++)
      assert.equal(servedBy(await get(`http://127.0.0.1:${port}/`)), 'good');
    assert.equal(bad.hits(), 0);
    // A reload (any change) must not make the failed node look healthy again.
    await edge.api('POST', '/rules', { name: 'noop', response: [{ remove_header: 'x-nothing' }] });
    assert.equal(await healthOf(bad.address), 'down');
    bad.healthy = true;
    await eventually(
      async () => (await healthOf(bad.address)) === 'up',
      'the recovered node back up',
      5000,
    );
  } finally {
    await edge.stop();
    closeAll(good.server, bad.server);
  }
});

test('a tls virtual server passes TLS through, routed by SNI', async () => {
  const make = async (name: string) => {
    const c = await ca.issueServerCertificate({ dnsNames: [`${name}.example.test`] });
    const server = tls.createServer({ cert: c.certPem, key: c.keyPem }, (s) => s.end(`${name}\n`));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { server, address: `127.0.0.1:${(server.address() as AddressInfo).port}` };
  };
  const one = await make('one');
  const two = await make('two');
  const edge = await startTestEdge();
  try {
    const port = await freePort();
    await edge.api('POST', '/pools', { name: 'one', nodes: [{ address: one.address }] });
    await edge.api('POST', '/pools', { name: 'two', nodes: [{ address: two.address }] });
    const vs = await edge.api('POST', '/virtual-servers', {
      name: 'sni',
      protocol: 'tls',
      listen: `127.0.0.1:${port}`,
      pool: 'two',
      routes: [{ host: 'one.example.test', pool: 'one' }],
    });
    assert.equal(vs.status, 201, JSON.stringify(vs.body));
    const ask = (servername: string) =>
      new Promise<string>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port, servername, ca: ca.certPem }, () => {
          assert.equal(s.getPeerX509Certificate()?.subjectAltName, `DNS:${servername}`);
        });
        let text = '';
        s.on('data', (d: Buffer) => (text += d.toString()));
        s.on('end', () => resolve(text.trim()));
        s.on('error', reject);
      });
    assert.equal(await ask('one.example.test'), 'one');
    assert.equal(await ask('two.example.test'), 'two');
  } finally {
    await edge.stop();
    closeAll(one.server, two.server);
  }
});
