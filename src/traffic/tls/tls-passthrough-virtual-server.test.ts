import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { DirectDialer } from '../direct-dial.js';
import { deadAddress, makePool, ScriptedPool, waitFor } from '../http/test-kit.js';
import { makeCertificate } from './test-certificates.js';
import {
  TlsPassthroughVirtualServer,
  type TlsPassthroughOptions,
  type TlsSessionRecord,
} from './tls-passthrough-virtual-server.js';

interface TlsBackend {
  readonly address: string;
  close(): Promise<void>;
}

/** A TLS server on 127.0.0.1 that answers every line with `<name>: <line>`. */
async function startTlsBackend(name: string): Promise<TlsBackend> {
  const pair = await makeCertificate(name, [name]);
  const server = tls.createServer(pair, (s) => {
    s.on('error', () => undefined);
    s.on('data', (c: Buffer) => s.write(`${name}: ${c.toString()}`));
    s.on('end', () => s.end());
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

/** Connects through the proxy with `servername`, sends one line and returns the peer's CN and answer. */
function talk(
  port: number,
  servername: string | undefined,
): Promise<{ cn: string; answer: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: '127.0.0.1', port, rejectUnauthorized: false, ...(servername ? { servername } : {}) },
      () => {
        const cn = String(socket.getPeerCertificate().subject?.CN);
        socket.once('data', (c: Buffer) => {
          resolve({ cn, answer: c.toString() });
          socket.end();
        });
        socket.write('hello');
      },
    );
    socket.on('error', reject);
  });
}

/** Writes raw bytes and waits for the proxy to close the connection (bounded). */
function rawClose(port: number, bytes: Buffer | undefined, ms = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      if (bytes) socket.write(bytes);
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`not closed within ${ms} ms`));
    }, ms);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.resume();
  });
}

describe('tls passthrough virtual server', () => {
  let a: TlsBackend;
  let b: TlsBackend;
  let fallback: TlsBackend;
  let vs: TlsPassthroughVirtualServer;
  let port: number;
  const records: TlsSessionRecord[] = [];
  const warnings: unknown[][] = [];

  const options = (extra: Partial<TlsPassthroughOptions> = {}): TlsPassthroughOptions => ({
    name: 'pass',
    listen: { host: '127.0.0.1', port: 0 },
    pool: makePool('fallback', [fallback.address]),
    routes: [
      { host: 'a.test', pool: makePool('a', [a.address]), name: 'to-a' },
      { host: '*.b.test', pool: makePool('b', [b.address]) },
    ],
    dialer: new DirectDialer(),
    clientHelloTimeoutMs: 300,
    maxClientHelloBytes: 4096,
    logger: { debug: () => undefined, warn: (...args: unknown[]) => warnings.push(args) },
    onSessionEnd: (r) => records.push(r),
    ...extra,
  });

  before(async () => {
    a = await startTlsBackend('a.test');
    b = await startTlsBackend('x.b.test');
    fallback = await startTlsBackend('fallback.test');
    vs = new TlsPassthroughVirtualServer(options());
    await vs.start();
    port = vs.address().port;
  });

  after(async () => {
    await vs.close({ drainTimeoutMs: 500 });
    await Promise.all([a.close(), b.close(), fallback.close()]);
  });

  test('routes by SNI to the node that terminates TLS itself', async () => {
    assert.deepEqual(await talk(port, 'a.test'), { cn: 'a.test', answer: 'a.test: hello' });
    assert.deepEqual(await talk(port, 'x.b.test'), { cn: 'x.b.test', answer: 'x.b.test: hello' });
    assert.deepEqual(await talk(port, 'other.test'), {
      cn: 'fallback.test',
      answer: 'fallback.test: hello',
    });
    assert.equal((await talk(port, undefined)).cn, 'fallback.test');
    await waitFor(() => records.filter((r) => r.closeReason === 'closed').length >= 4);
    const toA = records.find((r) => r.serverName === 'a.test');
    assert.equal(toA?.route, 'to-a');
    assert.equal(toA?.pool, 'a');
    assert.equal(toA?.node, a.address);
    assert.ok((toA?.bytesFromClient ?? 0) > 100 && (toA?.bytesToClient ?? 0) > 100);
  });

  test('garbage instead of a ClientHello is closed and logged with the reason', async () => {
    await rawClose(port, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await waitFor(() =>
      records.some((r) => r.closeReason === 'POSTERN_ERR_TLS_CLIENT_HELLO_INVALID'),
    );
    assert.ok(
      warnings.some((w) => JSON.stringify(w).includes('POSTERN_ERR_TLS_CLIENT_HELLO_INVALID')),
    );
  });

  test('a client that sends no ClientHello in time is closed', async () => {
    await rawClose(port, Buffer.from([22, 3, 1, 0x01, 0x00]));
    await waitFor(() =>
      records.some((r) => r.closeReason === 'POSTERN_ERR_TLS_CLIENT_HELLO_TIMEOUT'),
    );
  });

  test('a ClientHello larger than the limit is refused', async () => {
    // A handshake record announcing a ClientHello far larger than 4 KiB, sent in full records.
    const body = Buffer.alloc(16000, 0);
    body[0] = 1;
    body.writeUIntBE(60_000, 1, 3);
    const record = Buffer.concat([Buffer.from([22, 3, 1, 0x3e, 0x80]), body]);
    await rawClose(port, record);
    await waitFor(() =>
      records.some((r) => r.closeReason === 'POSTERN_ERR_TLS_CLIENT_HELLO_TOO_LARGE'),
    );
  });

  test('a dead node is skipped for another; reconfigure applies to new connections only', async () => {
    const dead = await deadAddress();
    const scripted = new ScriptedPool('a2', [dead, b.address]);
    vs.reconfigure(options({ routes: [{ host: 'a.test', pool: scripted }] }));
    try {
      assert.equal((await talk(port, 'a.test')).cn, 'x.b.test');
      // The pick of the node that served stays open until the session ends.
      await waitFor(() => scripted.outcomes.length === 2);
      assert.deepEqual(
        scripted.outcomes.map((o) => [o.node, o.outcome.ok]),
        [
          [dead, false],
          [b.address, true],
        ],
      );
      assert.equal(vs.address().port, port);
    } finally {
      vs.reconfigure(options());
    }
    assert.equal((await talk(port, 'a.test')).cn, 'a.test');
  });

  test('when every node tried fails, the record and the warning name each node', async () => {
    const deadA = await deadAddress();
    const deadB = await deadAddress();
    vs.reconfigure(
      options({ routes: [{ host: 'a.test', pool: new ScriptedPool('a3', [deadA, deadB]) }] }),
    );
    try {
      await assert.rejects(talk(port, 'a.test'));
      await waitFor(() => records.some((r) => r.pool === 'a3'));
      const record = records.find((r) => r.pool === 'a3');
      assert.equal(record?.closeReason, 'POSTERN_ERR_DIAL_REFUSED');
      assert.deepEqual(record?.failedNodes, {
        nodes: [
          { node: deadA, error: 'POSTERN_ERR_DIAL_REFUSED' },
          { node: deadB, error: 'POSTERN_ERR_DIAL_REFUSED' },
        ],
        more: 0,
      });
      const warning = warnings.find((w) => String(w[1]).includes('pool "a3"'));
      assert.match(
        String(warning?.[1]),
        new RegExp(
          `^All 2 nodes tried for pool "a3" failed: ${deadA} refused the connection .*, ${deadB} refused the connection`,
        ),
      );
    } finally {
      vs.reconfigure(options());
    }
  });
});
