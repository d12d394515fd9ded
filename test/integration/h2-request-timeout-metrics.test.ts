// An HTTP/2 request whose body stalls past request_timeout_ms is answered 408 on its stream and
// counted as a 408 by the edge (not as status 0 client_aborted).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { freePort, startTestEdge } from '../harness/harness.js';
import { createSelfSignedCert } from '../support/tls-cert.js';

/** The value of `postern_edge_http_requests_total` for a virtual server and status, 0 if absent. */
async function requestsTotal(adminUrl: string, server: string, status: number): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('postern_edge_http_requests_total{') &&
        l.includes(`virtual_server="${server}"`) &&
        l.includes(`status="${status}"`),
    );
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** POSTs `abc` over HTTP/2 and then sends nothing more; resolves with the answer's status and body. */
function stalledPost(port: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
    session.on('error', reject);
    const stream = session.request({ ':method': 'POST', ':path': '/upload' }, { endStream: false });
    let status = 0;
    let text = '';
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', (c: Buffer) => (text += c.toString()));
    stream.on('error', () => undefined);
    const timer = setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), 10_000);
    stream.on('close', () => {
      clearTimeout(timer);
      session.close();
      resolve({ status, text });
    });
    stream.write('abc');
  });
}

test('an HTTP/2 body that stalls gets 408 and postern_edge_http_requests_total counts a 408', async () => {
  const node = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('stored'));
  });
  node.listen(0, '127.0.0.1');
  await once(node, 'listening');
  const edge = await startTestEdge();
  try {
    const { cert, key } = await createSelfSignedCert();
    assert.equal((await edge.api('POST', '/certificates', { name: 'c', cert, key })).status, 201);
    const address = `127.0.0.1:${(node.address() as AddressInfo).port}`;
    const pool = { name: 'store', nodes: [{ address }] };
    assert.equal((await edge.api('POST', '/pools', pool)).status, 201);
    const port = await freePort();
    const vs = {
      name: 'front',
      protocol: 'https',
      listen: `127.0.0.1:${port}`,
      pool: 'store',
      tls: { certificates: ['c'] },
      request_timeout_ms: 300,
    };
    const created = await edge.api('POST', '/virtual-servers', vs);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const before = await requestsTotal(edge.adminUrl, 'front', 408);

    const answer = await stalledPost(port);
    assert.equal(answer.status, 408);
    assert.match(answer.text, /POSTERN_ERR_REQUEST_TIMEOUT/);

    // The record is reported when the stream closes, just after the client saw it close.
    const deadline = Date.now() + 3_000;
    let counted = before;
    while (counted === before && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      counted = await requestsTotal(edge.adminUrl, 'front', 408);
    }
    assert.equal(counted, before + 1);
    assert.equal(await requestsTotal(edge.adminUrl, 'front', 0), 0, 'no status-0 record');
  } finally {
    await edge.stop();
    node.close();
  }
});
