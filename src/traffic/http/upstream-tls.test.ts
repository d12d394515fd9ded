import assert from 'node:assert/strict';
import net from 'node:net';
import { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { createSelfSignedCert, type SelfSignedCert } from '../../../test/support/tls-cert.js';
import { systemClock } from '../../core/index.js';
import { DirectDialer } from '../direct-dial.js';
import type { Dialer, DialRequest, DialResult } from '../dialer.js';
import { Pool } from '../pool.js';
import { makeCertificate, type TestKeyPair } from '../tls/test-certificates.js';
import { startTlsNode, type TlsNode } from '../tls/test-tls-node.js';
import { startUpstreamTls, upstreamTlsFromConfig, type UpstreamTls } from '../upstream-tls.js';
import type { UpstreamTlsConfigInput } from '../upstream-tls.js';
import { ScriptedPool, send, startProxy, waitFor } from './test-kit.js';
import { UpstreamConnections } from './upstream-connections.js';

/** A scripted pool (fixed node order, outcomes recorded) that speaks TLS to its nodes. */
class TlsPool extends ScriptedPool {
  readonly upstreamTls: UpstreamTls | undefined;
  constructor(order: readonly string[], tls: UpstreamTlsConfigInput) {
    super('secure', order);
    this.upstreamTls = upstreamTlsFromConfig('secure', undefined, tls);
  }
}

/** A tunnel-like stream (not a net.Socket) over a TCP connection, as a connector's data stream is. */
class RelayedStream extends Duplex {
  readonly #inner: net.Socket;
  constructor(inner: net.Socket) {
    super();
    this.#inner = inner;
    inner.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) inner.pause();
    });
    inner.on('end', () => this.push(null));
    inner.on('close', () => this.destroy());
  }
  override _read(): void {
    this.#inner.resume();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.#inner.write(chunk, done);
  }
  override _final(done: () => void): void {
    this.#inner.end(done);
  }
  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.#inner.destroy();
    done(err);
  }
}

/** Dials like a via pool's tunnel: a relayed stream, the connector named, the streams kept. */
class RelayDialer implements Dialer {
  readonly requests: DialRequest[] = [];
  readonly streams: RelayedStream[] = [];
  readonly #direct = new DirectDialer();
  async dial(request: DialRequest): Promise<DialResult> {
    this.requests.push(request);
    const { socket } = await this.#direct.dial(request);
    const stream = new RelayedStream(socket as net.Socket);
    this.streams.push(stream);
    return { socket: stream, connectorId: 'c1', resolvedAddress: request.address };
  }
}

describe('TLS from the edge to pool nodes', () => {
  let nodeCert: SelfSignedCert;
  let otherCert: SelfSignedCert;
  let clientCert: TestKeyPair;
  let node: TlsNode;

  before(async () => {
    nodeCert = await createSelfSignedCert({ dnsNames: ['api.internal', 'localhost'] });
    otherCert = await createSelfSignedCert();
    // No extended key usage: the test support certificate is for servers only.
    clientCert = await makeCertificate('postern-edge', []);
    node = await startTlsNode(nodeCert, { name: 'a' });
  });

  after(() => node.close());

  test('a node whose certificate the pool ca signs is reached over TLS with ALPN http/1.1 and no SNI for an IP', async () => {
    const pool = new TlsPool([node.address], { ca: nodeCert.cert });
    const p = await startProxy({ pool });
    try {
      const res = await send(p.port, { path: '/verified' });
      assert.equal(res.status, 200);
      assert.equal(res.text, 'node a');
      const seen = node.seen.find((s) => s.path === '/verified');
      assert.equal(seen?.alpn, 'http/1.1');
      assert.equal(seen?.servername, false);
    } finally {
      await p.close();
    }
  });

  test('server_name is sent as SNI and verified against the certificate', async () => {
    const pool = new TlsPool([node.address], { ca: nodeCert.cert, server_name: 'api.internal' });
    const p = await startProxy({ pool });
    try {
      const res = await send(p.port, { path: '/sni' });
      assert.equal(res.status, 200);
      assert.equal(node.seen.find((s) => s.path === '/sni')?.servername, 'api.internal');
    } finally {
      await p.close();
    }
  });

  test('a node given by name gets its host as SNI', async () => {
    const tls = upstreamTlsFromConfig('named', undefined, { ca: nodeCert.cert });
    assert.ok(tls);
    const port = Number(node.address.split(':')[1]);
    const raw = net.connect({ host: '127.0.0.1', port });
    await new Promise((resolve) => raw.once('connect', resolve));
    // The address names the node: startUpstreamTls derives SNI from it, not from the socket.
    const secure = await startUpstreamTls(raw, `localhost:${port}`, { tls, timeoutMs: 2000 });
    try {
      secure.write('GET /named HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
      await waitFor(() => node.seen.some((s) => s.path === '/named'));
      assert.equal(node.seen.find((s) => s.path === '/named')?.servername, 'localhost');
    } finally {
      secure.destroy();
    }
  });

  test('a node whose certificate the pool does not trust is refused with 502 POSTERN_ERR_UPSTREAM_TLS', async () => {
    const pool = new TlsPool([node.address], { ca: otherCert.cert });
    const before = node.seen.length;
    const p = await startProxy({ pool, retries: 0 });
    try {
      const res = await send(p.port, { path: '/untrusted' });
      assert.equal(res.status, 502);
      assert.equal(res.headers['x-postern-error'], 'POSTERN_ERR_UPSTREAM_TLS');
      assert.match(res.text, new RegExp(`TLS to node ${node.address} of pool "secure" failed`));
      assert.equal(node.seen.length, before);
      assert.deepEqual(
        pool.outcomes.map((o) => [o.outcome.ok, o.outcome.kind, o.outcome.error]),
        [[false, 'connect', 'POSTERN_ERR_UPSTREAM_TLS']],
      );
    } finally {
      await p.close();
    }
  });

  test('a TLS failure is retried on the next node like a refused connection', async () => {
    const wrong = await startTlsNode(otherCert, { name: 'wrong' });
    const pool = new TlsPool([wrong.address, node.address], { ca: nodeCert.cert });
    const p = await startProxy({ pool });
    try {
      const res = await send(p.port, { path: '/retried' });
      assert.equal(res.status, 200);
      assert.equal(res.text, 'node a');
      assert.deepEqual(
        pool.outcomes.map((o) => [o.node, o.outcome.ok, o.outcome.error]),
        [
          [wrong.address, false, 'POSTERN_ERR_UPSTREAM_TLS'],
          [node.address, true, undefined],
        ],
      );
    } finally {
      await p.close();
      await wrong.close();
    }
  });

  test('verify: false reaches a node whose certificate nobody trusts', async () => {
    const pool = new TlsPool([node.address], { ca: otherCert.cert, verify: false });
    const p = await startProxy({ pool });
    try {
      const res = await send(p.port, { path: '/unverified' });
      assert.equal(res.status, 200);
      assert.equal(res.text, 'node a');
    } finally {
      await p.close();
    }
  });

  test('the client certificate is presented when configured', async () => {
    const mutual = await startTlsNode(nodeCert, { name: 'mutual', clientCa: clientCert.cert });
    const withCert = new TlsPool([mutual.address], {
      ca: nodeCert.cert,
      cert: clientCert.cert,
      key: clientCert.key,
    });
    const without = new TlsPool([mutual.address], { ca: nodeCert.cert });
    const p = await startProxy({ pool: withCert });
    const q = await startProxy({ pool: without, retries: 0 });
    try {
      const res = await send(p.port, { path: '/mutual' });
      assert.equal(res.status, 200, res.text);
      assert.equal(mutual.seen.find((s) => s.path === '/mutual')?.clientCn, 'postern-edge');
      const refused = await send(q.port, { path: '/anonymous' });
      assert.equal(refused.status, 502);
      assert.equal(
        mutual.seen.find((s) => s.path === '/anonymous'),
        undefined,
      );
    } finally {
      await p.close();
      await q.close();
      await mutual.close();
    }
  });

  test('keep-alive requests reuse one TLS connection to the node', async () => {
    const reuse = await startTlsNode(nodeCert, { name: 'reuse' });
    const pool = new TlsPool([reuse.address], { ca: nodeCert.cert });
    const p = await startProxy({ pool });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await send(p.port, { path: `/reuse/${i}` });
        assert.equal(res.status, 200);
      }
      assert.equal(reuse.seen.length, 3);
      assert.equal(reuse.tlsConnections, 1);
      assert.deepEqual(
        reuse.seen.map((s) => s.connection),
        [1, 1, 1],
      );
    } finally {
      await p.close();
      await reuse.close();
    }
  });

  test('an Upgrade request is carried over TLS to the node', async () => {
    const upgraded = await startTlsNode(nodeCert, { name: 'upgrade' });
    upgraded.onUpgrade = (socket) => {
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n',
      );
      socket.pipe(socket);
    };
    const pool = new TlsPool([upgraded.address], { ca: nodeCert.cert });
    const p = await startProxy({ pool });
    const client = net.connect({ host: '127.0.0.1', port: p.port });
    try {
      let received = '';
      client.setEncoding('latin1');
      client.on('data', (chunk: string) => (received += chunk));
      client.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
      await waitFor(() => received.includes('\r\n\r\n'));
      assert.match(received, /^HTTP\/1\.1 101 /);
      client.write('ping over tls');
      await waitFor(() => received.endsWith('ping over tls'));
    } finally {
      client.destroy();
      await p.close();
      await upgraded.close();
    }
  });

  test('an idle TLS connection is reused only under the same pool and TLS settings', async () => {
    const connections = new UpstreamConnections({ dialer: new DirectDialer(), clock: systemClock });
    const trusting = upstreamTlsFromConfig('secure', undefined, { ca: nodeCert.cert });
    const reloaded = upstreamTlsFromConfig('secure', undefined, { ca: otherCert.cert });
    const sameAgain = upstreamTlsFromConfig('secure', undefined, { ca: nodeCert.cert });
    try {
      const conn = await connections.dial(node.address, undefined, 2000, trusting);
      connections.release(conn, true);
      assert.equal(connections.takeIdle(node.address, undefined), undefined);
      assert.equal(connections.takeIdle(node.address, undefined, reloaded), undefined);
      assert.equal(connections.takeIdle(node.address, undefined, sameAgain), conn);
      conn.destroy();
    } finally {
      connections.close();
    }
  });

  test('TLS runs over a via stream that is not a socket, and closing it closes the stream', async () => {
    const dialer = new RelayDialer();
    const connections = new UpstreamConnections({ dialer, clock: systemClock });
    const tls = upstreamTlsFromConfig('secure', 'site', {
      ca: nodeCert.cert,
      server_name: 'api.internal',
    });
    try {
      const result = await connections.dialStream(node.address, 'site', { timeoutMs: 2000, tls });
      assert.equal(dialer.requests[0]?.via, 'site');
      assert.equal(result.connectorId, 'c1');
      assert.equal(result.resolvedAddress, node.address);
      const secure = result.socket as TLSSocket;
      assert.equal(secure.alpnProtocol, 'http/1.1');
      secure.write('GET /relayed HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await waitFor(() => node.seen.some((s) => s.path === '/relayed'));
      assert.equal(node.seen.find((s) => s.path === '/relayed')?.servername, 'api.internal');
      const stream = dialer.streams[0];
      assert.ok(stream);
      secure.destroy();
      await waitFor(() => stream.destroyed);

      const untrusted = upstreamTlsFromConfig('secure', 'site', { ca: otherCert.cert });
      await assert.rejects(
        connections.dialStream(node.address, 'site', { timeoutMs: 2000, tls: untrusted }),
        (err: Error & { code?: string }) => err.code === 'POSTERN_ERR_UPSTREAM_TLS',
      );
      const failed = dialer.streams[1];
      assert.ok(failed);
      await waitFor(() => failed.destroyed);
    } finally {
      connections.close();
    }
  });

  test('a pool built from configuration speaks TLS and warns when it does not verify', async () => {
    const events: unknown[] = [];
    const pool = Pool.fromConfig(
      { name: 'cfg', nodes: [{ address: node.address }], tls: { verify: false } },
      { onEvent: (e) => events.push(e) },
    );
    assert.deepEqual(events, [
      { type: 'tls_unverified', pool: 'cfg', warning: 'pool cfg does not verify its nodes' },
    ]);
    const p = await startProxy({ pool });
    try {
      const res = await send(p.port, { path: '/from-config' });
      assert.equal(res.status, 200);
      assert.equal(res.text, 'node a');
    } finally {
      await p.close();
      pool.close();
    }
  });
});
