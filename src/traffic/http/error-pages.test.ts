import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { before, describe, test } from 'node:test';
import { DirectDialer } from '../direct-dial.js';
import { Pool } from '../pool.js';
import { makeCertificate, type TestKeyPair } from '../tls/test-certificates.js';
import type { HttpErrorPage, HttpRequestRecord, HttpVirtualServerOptions } from './http-options.js';
import { HttpVirtualServer } from './http-virtual-server.js';
import { deadAddress, makePool, send, waitFor } from './test-kit.js';

interface Logged {
  readonly level: string;
  readonly fields: Record<string, unknown>;
}

/** An http(s) virtual server built without test-kit defaults, with what it logged and recorded. */
async function start(
  extra: Partial<HttpVirtualServerOptions> & Pick<HttpVirtualServerOptions, 'pool'>,
): Promise<{
  port: number;
  records: HttpRequestRecord[];
  logged: Logged[];
  close(): Promise<void>;
}> {
  const records: HttpRequestRecord[] = [];
  const logged: Logged[] = [];
  const log = (level: string) => (fields: Record<string, unknown>) =>
    logged.push({ level, fields });
  const vs = new HttpVirtualServer({
    name: 'front',
    protocol: 'http',
    listen: { host: '127.0.0.1', port: 0 },
    dialer: new DirectDialer(),
    onRequestEnd: (r) => records.push(r.record()),
    logger: { debug: log('debug'), warn: log('warn') },
    ...extra,
  });
  await vs.start();
  return {
    port: vs.address().port,
    records,
    logged,
    close: () => vs.close({ drainTimeoutMs: 1000 }),
  };
}

/** Sends raw bytes and returns everything the server sent before closing. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let all = '';
    socket.setEncoding('latin1');
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('data', (c: string) => (all += c));
    socket.on('close', () => resolve(all));
    socket.on('error', reject);
  });
}

const UPGRADE =
  'GET /chat HTTP/1.1\r\nHost: chat.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

const PAGE: HttpErrorPage = { body: '<h1>Back soon</h1><p>Reference: {request_id}</p>' };
const pages = (status: number, page = PAGE) => new Map([[status, page]]);

describe('error answers of an http virtual server', () => {
  let dead: string;
  before(async () => {
    dead = await deadAddress();
  });

  test('by default a 502 body names no node or pool, and its request id is the record’s and the log’s', async () => {
    const p = await start({ pool: makePool('secret-pool', [dead]), retries: 0 });
    try {
      const res = await send(p.port);
      assert.equal(res.status, 502);
      assert.equal(res.headers['x-postern-error'], 'POSTERN_ERR_DIAL_REFUSED');
      assert.doesNotMatch(res.text, new RegExp(`${dead}|secret-pool|127\\.0\\.0\\.1`));
      const id = /^Request id: (.+)$/m.exec(res.text)?.[1];
      assert.ok(id, res.text);
      assert.match(res.text, /^502 Bad Gateway\nError: POSTERN_ERR_DIAL_REFUSED\n/);
      await waitFor(() => p.records.length === 1);
      assert.equal(p.records[0]?.requestId, id);
      const warn = p.logged.find((l) => l.level === 'warn');
      assert.equal(warn?.fields['requestId'], id);
      assert.match(String(warn?.fields['err']), new RegExp(`${dead} refused the connection`));
    } finally {
      await p.close();
    }
  });

  test('errorDetail full answers the message naming the node', async () => {
    const p = await start({ pool: makePool('web', [dead]), retries: 0, errorDetail: 'full' });
    try {
      const res = await send(p.port);
      assert.match(
        res.text,
        new RegExp(`^POSTERN_ERR_DIAL_REFUSED: ${dead} refused the connection`),
      );
    } finally {
      await p.close();
    }
  });

  test('a page for 503 is served for an empty pool with its length, type and code', async () => {
    const p = await start({ pool: new Pool({ name: 'empty', nodes: [] }), errorPages: pages(503) });
    try {
      const res = await send(p.port);
      assert.equal(res.status, 503);
      await waitFor(() => p.records.length === 1);
      const id = p.records[0]?.requestId ?? '';
      assert.equal(res.text, `<h1>Back soon</h1><p>Reference: ${id}</p>`);
      assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(res.headers['content-length'], String(res.body.length));
      assert.equal(res.headers['x-postern-error'], 'POSTERN_ERR_POOL_EMPTY');
    } finally {
      await p.close();
    }
  });

  test('an Upgrade request to a dead node gets the 502 page, and the record has its id', async () => {
    const p = await start({ pool: makePool('ws', [dead]), retries: 0, errorPages: pages(502) });
    try {
      const answer = await raw(p.port, UPGRADE);
      assert.match(answer, /^HTTP\/1\.1 502 /);
      assert.match(answer, /X-Postern-Error: POSTERN_ERR_DIAL_REFUSED\r\n/);
      await waitFor(() => p.records.length === 1);
      assert.equal(p.records[0]?.upgrade, true);
      const body = `<h1>Back soon</h1><p>Reference: ${p.records[0]?.requestId}</p>`;
      assert.ok(answer.endsWith(`\r\n\r\n${body}`), answer);
      assert.match(answer, new RegExp(`Content-Length: ${Buffer.byteLength(body)}\r\n`));
    } finally {
      await p.close();
    }
  });

  test('a malformed request keeps its explanation by default, and a 400 page replaces it', async () => {
    const plain = await start({ pool: makePool('web', [dead]) });
    const paged = await start({
      pool: makePool('web', [dead]),
      errorPages: pages(400, { body: 'bad {request_id}', contentType: 'text/plain' }),
    });
    const request = 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n';
    try {
      const explained = await raw(plain.port, request);
      assert.match(explained, /^HTTP\/1\.1 400 /);
      assert.match(
        explained,
        /POSTERN_ERR_BAD_REQUEST: The request is not valid HTTP: more than one Host field/,
      );
      const answer = await raw(paged.port, request);
      await waitFor(() => paged.records.length === 1);
      assert.ok(answer.endsWith(`\r\n\r\nbad ${paged.records[0]?.requestId}`), answer);
      assert.match(answer, /Content-Type: text\/plain\r\n/);
    } finally {
      await plain.close();
      await paged.close();
    }
  });
});

describe('error pages over HTTP/2', () => {
  let cert: TestKeyPair;
  before(async () => {
    cert = await makeCertificate('app.example.com', ['app.example.com']);
  });

  test('an h2 request to an empty pool gets the 503 page with its length, type and code', async () => {
    const p = await start({
      protocol: 'https',
      tls: { certificates: [{ name: 'app', ...cert }] },
      pool: new Pool({ name: 'empty', nodes: [] }),
      errorPages: pages(503),
    });
    const session = http2.connect(`https://127.0.0.1:${p.port}`, {
      rejectUnauthorized: false,
      servername: 'app.example.com',
    });
    session.on('error', () => undefined);
    try {
      const { status, headers, body } = await new Promise<{
        status: number;
        headers: http2.IncomingHttpHeaders;
        body: string;
      }>((resolve, reject) => {
        const req = session.request({ ':path': '/', ':authority': 'app.example.com' });
        let text = '';
        let head: http2.IncomingHttpHeaders = {};
        req.setEncoding('utf8');
        req.on('response', (h) => (head = h));
        req.on('data', (c: string) => (text += c));
        req.on('end', () =>
          resolve({ status: Number(head[':status']), headers: head, body: text }),
        );
        req.on('error', reject);
        req.end();
      });
      assert.equal(status, 503);
      await waitFor(() => p.records.length === 1);
      assert.equal(p.records[0]?.protocol, 'h2');
      assert.equal(body, `<h1>Back soon</h1><p>Reference: ${p.records[0]?.requestId}</p>`);
      assert.equal(headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(headers['content-length'], String(Buffer.byteLength(body)));
      assert.equal(headers['x-postern-error'], 'POSTERN_ERR_POOL_EMPTY');
    } finally {
      session.close();
      await p.close();
    }
  });
});
