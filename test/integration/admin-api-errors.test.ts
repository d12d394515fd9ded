import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startTestEdge, type TestEdge } from '../harness/harness.js';

let edge: TestEdge;
let port: number;
before(async () => {
  edge = await startTestEdge();
  port = Number(new URL(edge.adminUrl).port);
});
after(async () => {
  await edge.stop();
});

/** Sends one raw HTTP/1.1 request and returns the status and the parsed JSON body. */
async function raw(
  head: string,
  body = '',
): Promise<{ status: number; error: { code: string; message: string }; text: string }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.write(head + body);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 5000);
    const check = (): void => {
      const text = Buffer.concat(chunks).toString();
      const length = /content-length: (\d+)/i.exec(text)?.[1];
      const start = text.indexOf('\r\n\r\n');
      if (length !== undefined && start >= 0 && text.length - start - 4 >= Number(length)) done();
    };
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    socket.on('data', check);
    socket.on('close', done);
  });
  socket.destroy();
  const text = Buffer.concat(chunks).toString();
  const status = Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1]);
  const json = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as {
    error: { code: string; message: string };
  };
  return { status, error: json.error, text };
}

function get(path: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: admin\r\nAuthorization: Bearer ${edge.adminToken}\r\n\r\n`;
}

test('a too long path segment answers 414 in the API envelope without echoing the URL', async () => {
  const res = await raw(get(`/api/v1/pools/${'a'.repeat(10_000)}`));
  assert.equal(res.status, 414);
  assert.equal(res.error.code, 'POSTERN_ERR_API_URL_TOO_LONG');
  assert.match(res.error.message, /longer than the admin API accepts/);
  assert.ok(!res.text.includes('aaaaaaaaaa'), 'the URL is not echoed');
  assert.ok(!res.text.includes('FST_ERR'), 'no Fastify code');
});

test('a malformed percent-encoding answers 400 in the API envelope', async () => {
  const res = await raw(get('/api/v1/pools/%E0%A4%A'));
  assert.equal(res.status, 400);
  assert.equal(res.error.code, 'POSTERN_ERR_BAD_REQUEST');
  assert.match(res.error.message, /percent-encoding/);
  assert.ok(!res.text.includes('FST_ERR'));
});

test('a request head over 16 KiB answers 431 in the API envelope', async () => {
  const res = await raw(get(`/api/v1/pools?x=${'b'.repeat(100_000)}`));
  assert.equal(res.status, 431);
  assert.equal(res.error.code, 'POSTERN_ERR_API_HEADERS_TOO_LARGE');
  assert.match(res.error.message, /16 KiB/);
});

test('a JSON body with __proto__ is refused as such, not as invalid JSON', async () => {
  const body = '{"name":"p1","__proto__":{"admin":true},"nodes":[]}';
  const res = await raw(
    `POST /api/v1/pools HTTP/1.1\r\nHost: admin\r\nAuthorization: Bearer ${edge.adminToken}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
    body,
  );
  assert.equal(res.status, 400);
  assert.equal(res.error.code, 'POSTERN_ERR_BAD_REQUEST');
  assert.match(res.error.message, /keys named __proto__ or constructor/);
  assert.doesNotMatch(res.error.message, /not valid JSON/);
});

test('a body that is not JSON still says so', async () => {
  const body = '{"name": ';
  const res = await raw(
    `POST /api/v1/pools HTTP/1.1\r\nHost: admin\r\nAuthorization: Bearer ${edge.adminToken}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
    body,
  );
  assert.equal(res.status, 400);
  assert.equal(res.error.code, 'POSTERN_ERR_BAD_REQUEST');
  assert.match(res.error.message, /not valid JSON/);
});
