import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Dialer, DialRequest, DialResult } from '../dialer.js';
import { trafficErrors } from '../errors.js';
import { Pool } from '../pool.js';
import {
  deadAddress,
  makePool,
  ScriptedPool,
  send,
  startBackend,
  startProxy,
  waitFor,
  type Backend,
} from './test-kit.js';

describe('http virtual server upstream failures', () => {
  let good: Backend;
  let dead: string;

  before(async () => {
    good = await startBackend('good');
    dead = await deadAddress();
  });

  after(() => good.close());

  test('a GET whose first node refuses the connection is retried on another node', async () => {
    const pool = new ScriptedPool('p', [dead, good.address]);
    const p = await startProxy({ pool });
    try {
      const res = await send(p.port, { path: '/retry' });
      assert.equal(res.status, 200);
      assert.equal(res.text, 'backend good');
      assert.deepEqual(
        pool.outcomes.map((o) => [o.node, o.outcome.ok, o.outcome.kind]),
        [
          [dead, false, 'connect'],
          [good.address, true, undefined],
        ],
      );
      await waitFor(() => p.records.length === 1);
      assert.equal(p.records[0]?.attempts, 2);
      assert.equal(p.records[0]?.node, good.address);
    } finally {
      await p.close();
    }
  });

  test('a POST whose first node refuses the connection is retried on another node, body whole', async () => {
    const bodies: string[] = [];
    const echo = await startBackend('echo', (req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        bodies.push(body);
        res.end(`got ${body}`);
      });
    });
    const pool = new ScriptedPool('p', [dead, echo.address]);
    const p = await startProxy({ pool });
    try {
      const res = await send(p.port, { method: 'POST', body: 'payload' });
      assert.equal(res.status, 200);
      assert.equal(res.text, 'got payload');
      assert.deepEqual(bodies, ['payload']);
      assert.deepEqual(
        pool.outcomes.map((o) => [o.node, o.outcome.ok]),
        [
          [dead, false],
          [echo.address, true],
        ],
      );
      await waitFor(() => p.records.length === 1);
      assert.equal(p.records[0]?.attempts, 2);
      assert.equal(p.records[0]?.node, echo.address);
    } finally {
      await p.close();
      await echo.close();
    }
  });

  test('a POST whose node resets after reading the body is not retried: 502', async () => {
    // Reads the whole request, body included, then drops the connection without answering.
    const rude = net.createServer((s) => {
      let seen = '';
      s.on('data', (c: Buffer) => {
        seen += c.toString('latin1');
        if (seen.includes('payload')) s.destroy();
      });
    });
    await new Promise<void>((r) => rude.listen(0, '127.0.0.1', r));
    const address = `127.0.0.1:${(rude.address() as net.AddressInfo).port}`;
    const before = good.seen.length;
    const pool = new ScriptedPool('p', [address, good.address]);
    const p = await startProxy({ pool, retries: 3 });
    try {
      const res = await send(p.port, { method: 'POST', body: 'payload' });
      assert.equal(res.status, 502);
      assert.equal(res.headers['x-postern-error'], 'POSTERN_ERR_UPSTREAM_RESET');
      assert.deepEqual(
        pool.outcomes.map((o) => o.node),
        [address],
      );
      assert.equal(good.seen.length, before);
      await waitFor(() => p.records.length === 1);
      assert.equal(p.records[0]?.attempts, 1);
    } finally {
      await p.close();
      await new Promise((r) => rude.close(r));
    }
  });

  test('never tries the same node twice: with one dead node the GET fails with 502', async () => {
    const pool = makePool('single', [dead]);
    const p = await startProxy({ pool, retries: 3 });
    try {
      const res = await send(p.port);
      assert.equal(res.status, 502);
      assert.equal(res.headers['x-postern-error'], 'POSTERN_ERR_DIAL_REFUSED');
      await waitFor(() => p.records.length === 1);
      assert.equal(p.records[0]?.attempts, 1);
    } finally {
      await p.close();
    }
  });

  test('an empty pool answers 503 with POSTERN_ERR_POOL_EMPTY', async () => {
    const p = await startProxy({ pool: new Pool({ name: 'empty', nodes: [] }) });
    try {
      const res = await send(p.port);
      assert.equal(res.status, 503);
      assert.equal(res.headers['x-postern-error'], 'POSTERN_ERR_POOL_EMPTY');
      assert.match(res.text, /Pool "empty"/);
    } finally {
      await p.close();
    }
  });

  test('a connect timeout answers 504 with POSTERN_ERR_DIAL_TIMEOUT', async () => {
    const requests: DialRequest[] = [];
    const slowDialer: Dialer = {
      dial: (request: DialRequest): Promise<DialResult> => {
        requests.push(request);
        return new Promise((_, reject) =>
          setTimeout(
            () => reject(trafficErrors.dialTimeout(request.address, '')),
            request.timeoutMs,
          ),
        );
      },
    };
    const p = await startProxy({
      pool: makePool('t', [good.address]),
      dialer: slowDialer,
      connectTimeoutMs: 50,
    });
    try {
      const res = await send(p.port, { method: 'POST', body: 'x' });
      assert.equal(res.status, 504);
      assert.equal(res.headers['x-postern-error'], 'POSTERN_ERR_DIAL_TIMEOUT');
      assert.equal(requests[0]?.timeoutMs, 50);
    } finally {
      await p.close();
    }
  });

  test('an upstream that answers nothing within the idle timeout gets 504 with the reason', async () => {
    const silent = await startBackend('silent', () => undefined);
    const pool = new ScriptedPool('silent', [silent.address]);
    const p = await startProxy({ pool, idleTimeoutMs: 200 });
    try {
      const started = Date.now();
      const res = await send(p.port);
      assert.equal(res.status, 504);
      assert.equal(res.headers['x-postern-error'], 'POSTERN_ERR_UPSTREAM_TIMEOUT');
      assert.match(res.text, /sent nothing for 200 ms/);
      assert.ok(Date.now() - started >= 190);
      assert.deepEqual(pool.outcomes[0]?.outcome, { ok: false, kind: 'timeout' });
    } finally {
      await p.close();
      await silent.close();
    }
  });

  test('idle_timeout_ms 0 waits for a slow upstream as long as it takes', async () => {
    const slow = await startBackend('slow', (_req, res) => {
      setTimeout(() => res.end('late'), 300);
    });
    const p = await startProxy({
      pool: new ScriptedPool('slow', [slow.address]),
      idleTimeoutMs: 0,
    });
    try {
      const res = await send(p.port);
      assert.equal(res.status, 200);
      assert.equal(res.text, 'late');
    } finally {
      await p.close();
      await slow.close();
    }
  });

  test('an upstream that closes without answering gets 502 POSTERN_ERR_UPSTREAM_RESET for a POST', async () => {
    const rude = net.createServer((s) => s.once('data', () => s.destroy()));
    await new Promise<void>((r) => rude.listen(0, '127.0.0.1', r));
    const address = `127.0.0.1:${(rude.address() as net.AddressInfo).port}`;
    const p = await startProxy({ pool: makePool('rude', [address]) });
    try {
      const res = await send(p.port, { method: 'POST', body: 'x' });
      assert.equal(res.status, 502);
      assert.equal(res.headers['x-postern-error'], 'POSTERN_ERR_UPSTREAM_RESET');
    } finally {
      await p.close();
      await new Promise((r) => rude.close(r));
    }
  });

  test('an upstream that speaks garbage gets 502 POSTERN_ERR_UPSTREAM_PROTOCOL', async () => {
    const junk = net.createServer((s) =>
      s.once('data', () => s.end('SSH-2.0-OpenSSH_9.2\r\n\r\n')),
    );
    await new Promise<void>((r) => junk.listen(0, '127.0.0.1', r));
    const address = `127.0.0.1:${(junk.address() as net.AddressInfo).port}`;
    const p = await startProxy({ pool: makePool('junk', [address]) });
    try {
      const res = await send(p.port);
      assert.equal(res.status, 502);
      assert.equal(res.headers['x-postern-error'], 'POSTERN_ERR_UPSTREAM_PROTOCOL');
      assert.match(res.text, /bad status line/);
    } finally {
      await p.close();
      await new Promise((r) => junk.close(r));
    }
  });

  test('an upstream that dies mid-body cuts the client response instead of ending it cleanly', async () => {
    const half = net.createServer((s) =>
      s.once('data', () => {
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part');
        setTimeout(() => s.destroy(), 20);
      }),
    );
    await new Promise<void>((r) => half.listen(0, '127.0.0.1', r));
    const address = `127.0.0.1:${(half.address() as net.AddressInfo).port}`;
    const p = await startProxy({ pool: makePool('half', [address]) });
    try {
      await assert.rejects(send(p.port), /aborted|ECONNRESET|socket hang up/);
      await waitFor(() => p.records.length === 1);
      assert.equal(p.records[0]?.closeReason, 'POSTERN_ERR_UPSTREAM_RESET');
      assert.equal(p.records[0]?.status, 200);
    } finally {
      await p.close();
      await new Promise((r) => half.close(r));
    }
  });

  test('an idle keep-alive connection the node closed is forgotten, not reused', async () => {
    const b = await startBackend('short');
    b.server.keepAliveTimeout = 50;
    const p = await startProxy({
      pool: makePool('short', [b.address]),
      upstream: { idleTimeoutMs: 60_000 },
    });
    try {
      assert.equal((await send(p.port)).status, 200);
      await waitFor(() => p.vs.upstreamConnections.idle === 0, 2000);
      assert.equal((await send(p.port)).status, 200);
      assert.equal(p.vs.upstreamConnections.dialed, 2);
    } finally {
      await p.close();
      await b.close();
    }
  });

  test('a reused connection that dies before answering is replaced for a GET but not for a POST', async () => {
    // Each connection answers its first request and drops the second: a keep-alive race.
    const flaky = net.createServer((s) => {
      let n = 0;
      s.on('data', () => {
        if (++n === 1) s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
        else s.destroy();
      });
    });
    await new Promise<void>((r) => flaky.listen(0, '127.0.0.1', r));
    const address = `127.0.0.1:${(flaky.address() as net.AddressInfo).port}`;
    const p = await startProxy({ pool: makePool('flaky', [address]) });
    try {
      assert.equal((await send(p.port)).status, 200);
      const retried = await send(p.port);
      assert.equal(retried.status, 200);
      assert.equal(p.vs.upstreamConnections.dialed, 2);
      const post = await send(p.port, { method: 'POST', body: 'once' });
      assert.equal(post.status, 502);
      assert.equal(post.headers['x-postern-error'], 'POSTERN_ERR_UPSTREAM_RESET');
    } finally {
      await p.close();
      await new Promise((r) => flaky.close(r));
    }
  });
});
