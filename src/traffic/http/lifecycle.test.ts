import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, test } from 'node:test';
import { DirectDialer } from '../direct-dial.js';
import { makePool, send, startBackend, startProxy, waitFor } from './test-kit.js';

describe('http virtual server lifecycle', () => {
  test('reconfigure sends new requests to the new pool; a request in flight finishes on the old one', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const oldB = await startBackend('old', (req, res) => {
      if (req.url === '/slow') void held.then(() => res.end('old slow'));
      else res.end('old');
    });
    const newB = await startBackend('new');
    const dialer = new DirectDialer();
    const p = await startProxy({ pool: makePool('p', [oldB.address]), dialer });
    try {
      const slow = send(p.port, { path: '/slow' });
      await waitFor(() => oldB.seen.length === 1);
      const port = p.vs.address().port;
      p.vs.reconfigure({
        name: 'test',
        protocol: 'http',
        listen: { host: '127.0.0.1', port: 0 },
        pool: makePool('p', [newB.address]),
        dialer,
        rules: [{ name: 'tag', response: [{ set_header: { name: 'X-Generation', value: '2' } }] }],
      });
      assert.equal(p.vs.address().port, port);
      const fresh = await send(p.port);
      assert.equal(fresh.text, 'backend new');
      assert.equal(fresh.headers['x-generation'], '2');
      release();
      const old = await slow;
      assert.equal(old.text, 'old slow');
      assert.equal(old.headers['x-generation'], undefined);
    } finally {
      await p.close();
      await Promise.all([oldB.close(), newB.close()]);
    }
  });

  test('close stops accepting, lets the request in flight finish and closes idle keep-alive connections', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const b = await startBackend('drain', (req, res) => {
      if (req.url === '/slow') void held.then(() => res.end('finished'));
      else res.end('quick');
    });
    const p = await startProxy({ pool: makePool('d', [b.address]) });
    const agent = new http.Agent({ keepAlive: true });
    try {
      assert.equal((await send(p.port, { agent })).text, 'quick');
      const slow = send(p.port, { path: '/slow' });
      await waitFor(() => b.seen.length === 2);
      let closed = false;
      const closing = p.vs.close({ drainTimeoutMs: 5000 }).then(() => (closed = true));
      await assert.rejects(send(p.port), /ECONNREFUSED/);
      assert.equal(closed, false);
      release();
      assert.equal((await slow).text, 'finished');
      await closing;
      assert.equal(p.vs.activeRequests, 0);
    } finally {
      agent.destroy();
      await b.close();
    }
  });

  test('close cuts requests still running when the drain timeout ends', async () => {
    const b = await startBackend('stuck', () => undefined);
    const p = await startProxy({ pool: makePool('s', [b.address]) });
    try {
      const stuck = send(p.port);
      await waitFor(() => b.seen.length === 1);
      const started = Date.now();
      await p.vs.close({ drainTimeoutMs: 150 });
      assert.ok(Date.now() - started >= 140);
      await assert.rejects(stuck, /socket hang up|ECONNRESET/);
      await waitFor(() => p.records.length === 1);
      assert.equal(p.records[0]?.closeReason, 'client_aborted');
    } finally {
      await b.close();
    }
  });
});
