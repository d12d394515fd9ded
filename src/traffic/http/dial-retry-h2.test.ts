import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { DirectDialer } from '../direct-dial.js';
import { makeCertificate } from '../tls/test-certificates.js';
import type { HttpRequestRecord } from './http-options.js';
import { HttpVirtualServer } from './http-virtual-server.js';
import { deadAddress, ScriptedPool, startBackend, waitFor, type Backend } from './test-kit.js';

describe('https virtual server: a failed dial for an HTTP/2 POST', () => {
  let echo: Backend;
  let dead: string;
  const bodies: string[] = [];

  before(async () => {
    dead = await deadAddress();
    echo = await startBackend('echo', (req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        bodies.push(body);
        res.end(`got ${body}`);
      });
    });
  });

  after(() => echo.close());

  test('is retried on another node: nothing had been sent', async () => {
    const records: HttpRequestRecord[] = [];
    const pool = new ScriptedPool('p', [dead, echo.address]);
    const vs = new HttpVirtualServer({
      name: 'h2retry',
      protocol: 'https',
      listen: { host: '127.0.0.1', port: 0 },
      pool,
      dialer: new DirectDialer(),
      tls: { certificates: [{ name: 'main', ...(await makeCertificate('h2.test', ['h2.test'])) }] },
      onRequestEnd: (r) => records.push(r.record()),
    });
    await vs.start();
    const session = http2.connect(`https://127.0.0.1:${vs.address().port}`, {
      rejectUnauthorized: false,
      servername: 'h2.test',
    });
    session.on('error', () => undefined);
    try {
      const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const stream = session.request({
          ':method': 'POST',
          ':path': '/',
          ':authority': 'h2.test',
        });
        let status = 0;
        let text = '';
        stream.on('response', (h) => (status = Number(h[':status'])));
        stream.setEncoding('utf8');
        stream.on('data', (c: string) => (text += c));
        stream.on('end', () => resolve({ status, text }));
        stream.on('error', reject);
        stream.end('h2 payload');
      });
      assert.deepEqual(answer, { status: 200, text: 'got h2 payload' });
      assert.deepEqual(bodies, ['h2 payload']);
      assert.deepEqual(
        pool.outcomes.map((o) => [o.node, o.outcome.ok]),
        [
          [dead, false],
          [echo.address, true],
        ],
      );
      await waitFor(() => records.length === 1);
      assert.equal(records[0]?.attempts, 2);
    } finally {
      session.close();
      await vs.close({ drainTimeoutMs: 1000 });
    }
  });
});
