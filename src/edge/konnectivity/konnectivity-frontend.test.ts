import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { FrontendConnector } from './connect-handler.js';
import { startKonnectivityFrontend, type KonnectivityOptions } from './konnectivity-frontend.js';

const connector = (id: string, group: string): FrontendConnector => ({
  connectorId: id,
  group,
  identifiers: { host: [], ipv4: [], ipv6: [], cidr: [], defaultRoute: false },
  activeSessions: 0,
  draining: false,
});

function deps(dialed: string[]) {
  return {
    backend: {
      candidates: () => [connector('in-a', 'a'), connector('in-b', 'b')],
      dial: (c: FrontendConnector) => {
        dialed.push(c.connectorId);
        return Promise.resolve({ socket: new PassThrough(), connectorId: c.connectorId });
      },
    },
    registry: new Registry(),
    logger: pino({ level: 'silent' }),
    issueCertificate: () => Promise.reject(new Error('no TCP listener in this test')),
  };
}

test('invalid option combinations are refused before anything listens', async () => {
  const cases: [KonnectivityOptions, RegExp][] = [
    [{}, /--konnectivity-uds or --konnectivity-listen/],
    [{ listen: '127.0.0.1:0' }, /needs --konnectivity-client-ca/],
    [{ udsPath: '/nonexistent/x.sock', certFile: 'a' }, /go together/],
    [{ listen: 'nonsense', clientCaFile: 'x' }, /not host:port/],
  ];
  for (const [options, why] of cases) {
    await assert.rejects(
      startKonnectivityFrontend(options, deps([])),
      (err: Error & { code?: string }) =>
        err.code === 'POSTERN_ERR_KONNECTIVITY_OPTIONS' && why.test(err.message),
    );
  }
  await assert.rejects(
    startKonnectivityFrontend({ udsPath: '/nonexistent/x.sock', strategies: 'zone' }, deps([])),
    { code: 'POSTERN_ERR_KONNECTIVITY_STRATEGY' },
  );
});

test('with a group only that group’s connectors serve the frontend', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'postern-konn-fe-'));
  const dialed: string[] = [];
  const frontend = await startKonnectivityFrontend(
    { udsPath: join(dir, 'k.sock'), strategies: 'default', group: 'b' },
    deps(dialed),
  );
  try {
    for (let i = 0; i < 4; i++) {
      const socket = net.connect({ path: join(dir, 'k.sock') });
      socket.write('CONNECT db:5432 HTTP/1.1\r\nHost: x\r\n\r\n');
      const first = await new Promise<string>((resolve) =>
        socket.once('data', (d: Buffer) => resolve(d.toString('latin1'))),
      );
      assert.equal(first, 'HTTP/1.1 200 Connection Established\r\n\r\n');
      socket.destroy();
    }
    assert.deepEqual(dialed, ['in-b', 'in-b', 'in-b', 'in-b']);
  } finally {
    await frontend.close(0);
    await rm(dir, { recursive: true, force: true });
  }
});
