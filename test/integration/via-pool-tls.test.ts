import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import type { Connector } from '../../src/connector/index.js';
import { send } from '../../src/traffic/http/test-kit.js';
import { makeCertificate, type TestKeyPair } from '../../src/traffic/tls/test-certificates.js';
import {
  eventually,
  freePort,
  startTestConnector,
  startTestEdge,
  type TestEdge,
} from '../harness/harness.js';
import { createSelfSignedCert, type SelfSignedCert } from '../support/tls-cert.js';
import { echoUpgrade, startTlsNode, type TlsNode } from '../../src/traffic/tls/test-tls-node.js';

// Via pools with `tls`: the edge opens the stream through the connector's tunnel as for any via
// pool and runs TLS over it, so the session is between the edge and the node (the connector
// relays ciphertext). Everything TLS to direct pools does holds here the same way.

const GROUP = 'viatls-site';

let edge: TestEdge;
let connector: Connector;
let nodeCert: SelfSignedCert;
let otherCert: SelfSignedCert;
let clientCert: TestKeyPair;
let good: TlsNode;
let wrong: TlsNode;
let mutual: TlsNode;

before(async () => {
  nodeCert = await createSelfSignedCert({ dnsNames: ['api.internal', 'localhost'] });
  otherCert = await createSelfSignedCert({ dnsNames: ['api.internal', 'localhost'] });
  clientCert = await makeCertificate('postern-edge', []);
  // The node closes idle keep-alive connections soon, so the leak check need not wait long.
  good = await startTlsNode(nodeCert, { name: 'good', keepAliveMs: 1500, onUpgrade: echoUpgrade });
  wrong = await startTlsNode(otherCert, {
    name: 'wrong',
    keepAliveMs: 1500,
    onUpgrade: echoUpgrade,
  });
  mutual = await startTlsNode(nodeCert, {
    name: 'mutual',
    clientCa: clientCert.cert,
    keepAliveMs: 1500,
    onUpgrade: echoUpgrade,
  });
  edge = await startTestEdge();
  const key = await edge.createKey(GROUP);
  connector = await startTestConnector({ provisionKey: key.value });
});

after(async () => {
  await edge.stop();
  await Promise.all([good.close(), wrong.close(), mutual.close()]);
});

/**
 * Creates a via pool with `tls` and an http virtual server on it (`error_detail: full`, so error
 * bodies name the node and pool); returns the listener's port.
 */
async function publish(
  name: string,
  nodes: readonly TlsNode[],
  tls: Record<string, unknown>,
): Promise<number> {
  const pool = await edge.api('POST', '/pools', {
    name,
    via: GROUP,
    nodes: nodes.map((n) => ({ address: n.address })),
    tls,
  });
  assert.equal(pool.status, 201, JSON.stringify(pool.body));
  const port = await freePort();
  const vs = await edge.api('POST', '/virtual-servers', {
    name,
    protocol: 'http',
    listen: `127.0.0.1:${port}`,
    pool: name,
    error_detail: 'full',
  });
  assert.equal(vs.status, 201, JSON.stringify(vs.body));
  return port;
}

/** The edge's postern_edge_open_streams gauge: data streams open through tunnels. */
async function openStreams(): Promise<number> {
  const metric = await edge.metrics.openStreams.get();
  return metric.values[0]?.value ?? 0;
}

test('requests through a via pool reach the node over TLS with SNI and ALPN, on one kept-alive connection', async () => {
  const port = await publish('viatls-sni', [good], {
    ca: nodeCert.cert,
    server_name: 'api.internal',
  });
  const before = good.tlsConnections;
  for (let i = 0; i < 3; i++) {
    const res = await send(port, { path: `/sni/${i}` });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.text, 'node good');
  }
  const seen = good.seen.filter((s) => s.path.startsWith('/sni/'));
  assert.equal(seen.length, 3);
  for (const s of seen) {
    assert.equal(s.servername, 'api.internal');
    assert.equal(s.alpn, 'http/1.1');
  }
  assert.equal(good.tlsConnections, before + 1);
  assert.equal(new Set(seen.map((s) => s.connection)).size, 1);
  // The kept-alive TLS connection holds its tunnel stream (the leak check below needs one).
  assert.ok((await openStreams()) >= 1);
});

test('a node certificate the pool ca did not sign gets 502 POSTERN_ERR_UPSTREAM_TLS naming node and pool', async () => {
  const port = await publish('viatls-untrusted', [wrong], { ca: nodeCert.cert });
  const res = await send(port, { path: '/untrusted' });
  assert.equal(res.status, 502);
  assert.equal(res.headers['x-postern-error'], 'POSTERN_ERR_UPSTREAM_TLS');
  assert.match(res.text, new RegExp(`TLS to node ${wrong.address} of pool "viatls-untrusted"`));
  assert.equal(
    wrong.seen.find((s) => s.path === '/untrusted'),
    undefined,
  );
});

test('after a TLS failure on one node of a via pool the request goes to the next node', async () => {
  const port = await publish('viatls-retry', [wrong, good], { ca: nodeCert.cert });
  const tried = wrong.tcpConnections;
  // Round robin starts anywhere: two requests make sure one picks the wrong node first.
  for (let i = 0; i < 2; i++) {
    const res = await send(port, { path: `/retry/${i}` });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.text, 'node good');
  }
  assert.ok(wrong.tcpConnections > tried, 'the wrong node was never tried');
  assert.equal(wrong.seen.filter((s) => s.path.startsWith('/retry/')).length, 0);
});

test('verify: false on a via pool accepts a node certificate nobody trusts', async () => {
  const port = await publish('viatls-unverified', [wrong], { ca: nodeCert.cert, verify: false });
  const res = await send(port, { path: '/unverified' });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.text, 'node wrong');
});

test('the client certificate of a via pool reaches a node that requires it', async () => {
  const port = await publish('viatls-mutual', [mutual], {
    ca: nodeCert.cert,
    cert: clientCert.cert,
    key: clientCert.key,
  });
  const res = await send(port, { path: '/mutual' });
  assert.equal(res.status, 200, res.text);
  assert.equal(mutual.seen.find((s) => s.path === '/mutual')?.clientCn, 'postern-edge');

  const anonymous = await publish('viatls-anonymous', [mutual], { ca: nodeCert.cert });
  const refused = await send(anonymous, { path: '/anonymous' });
  assert.equal(refused.status, 502);
  assert.equal(
    mutual.seen.find((s) => s.path === '/anonymous'),
    undefined,
  );
});

test('an Upgrade request on a via pool is carried over TLS to the node', async () => {
  const port = await publish('viatls-upgrade', [good], { ca: nodeCert.cert });
  const before = good.tlsConnections;
  const client = net.connect({ host: '127.0.0.1', port });
  try {
    let received = '';
    client.setEncoding('latin1');
    client.on('data', (chunk: string) => (received += chunk));
    client.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
    await eventually(() => received.includes('\r\n\r\n'), 'the 101 answer', 10_000);
    assert.match(received, /^HTTP\/1\.1 101 /);
    client.write('ping over tls');
    await eventually(() => received.endsWith('ping over tls'), 'the echo', 10_000);
    assert.equal(good.tlsConnections, before + 1);
  } finally {
    client.destroy();
  }
});

test('no tunnel stream is left open on the edge or the connector once the TLS connections close', async () => {
  assert.ok(good.seen.length > 0, 'earlier tests sent requests');
  // Kept-alive TLS connections close when the node's keep-alive timeout ends them; failed
  // handshakes and the closed WebSocket closed theirs already.
  await eventually(async () => (await openStreams()) === 0, 'open streams back to 0', 15_000);
  await eventually(() => connector.counters.active === 0, 'connector streams back to 0', 5000);
});
