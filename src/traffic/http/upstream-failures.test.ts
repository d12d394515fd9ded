import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Dialer, DialRequest, DialResult } from '../dialer.js';
import { trafficErrors } from '../errors.js';
import { Pool } from '../pool.js';
import type { UpstreamOutcome, UpstreamPick, UpstreamPool } from './upstream-pool.js';
import { deadAddress, makePool, send, startBackend, startProxy, waitFor, type Backend } from './test-kit.js';

/** A pool that always offers its nodes in the given order and records every outcome. */
class ScriptedPool implements UpstreamPool {
  readonly via = undefined;
  readonly outcomes: { node: string; outcome: UpstreamOutcome }[] = [];
  constructor(
    readonly name: string,
    readonly order: readonly string[],
  ) {}
  pick(options?: { exclude?: ReadonlySet<string> }): UpstreamPick {
    const address = this.order.find((a) => !options?.exclude?.has(a));
    if (address === undefined) throw trafficErrors.poolEmpty(this.name);
    return { node: { address }, done: (outcome) => this.outcomes.push({ node: address, outcome }) };
  }
}

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

  test('a POST is not retried: 502 with the coded dial reason in the body and X-Postern-Error', async () => {
    const pool = new ScriptedPool('p', [dead, good.address]);
    const p = await startProxy({ pool });
    try {
      const res = await send(p.port, { method: 'POST', body: 'payload' });
      assert.equal(res.status, 502);
      assert.equal(res.headers['x-postern-error'], 'POSTERN_ERR_DIAL_REFUSED');
      assert.match(res.text, /^POSTERN_ERR_DIAL_REFUSED: .*refused the connection/);
      assert.equal(pool.outcomes.length, 1);
      await waitFor(() => p.records.length === 1);
      assert.equal(p.records[0]?.closeReason, 'POSTERN_ERR_DIAL_REFUSED');
    } finally {
      await p.close();
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
          setTimeout(() => reject(trafficErrors.dialTimeout(request.address, '')), request.timeoutMs),
        );
      },
    };
    const p = await startProxy({ pool: makePool('t', [good.address]), dialer: slowDialer, connectTimeoutMs: 50 });
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
    const junk = net.createServer((s) => s.once('data', () => s.end('SSH-2.0-OpenSSH_9.2\r\n\r\n')));
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

  test('a keep-alive connection the node closed while idle is replaced transparently', async () => {
    const b = await startBackend('short');
    b.server.keepAliveTimeout = 50;
    const p = await startProxy({ pool: makePool('short', [b.address]), upstream: { idleTimeoutMs: 60_000 } });
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
});
