import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { pino } from 'pino';
import { opensslSelfSigned } from '../../../test/support/openssl-cert.js';
import { keepMtlsFresh, loadMtlsContext } from './mtls-listener.js';

const server = opensslSelfSigned('/CN=localhost', 'IP:127.0.0.1');
const first = opensslSelfSigned('/CN=client-one', 'DNS:client-one');
const second = opensslSelfSigned('/CN=client-two', 'DNS:client-two');

/** True when a TLS client with `identity` completes a request/answer over the listener. */
function accepted(port: number, identity: { cert: string; key: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: [server.cert], ...identity });
    socket.on('error', () => resolve(false));
    socket.on('data', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('close', () => resolve(false));
    socket.write('hi');
  });
}

test('a changed client CA file is applied without a restart', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'postern-konn-tls-'));
  const files = {
    clientCaFile: join(dir, 'ca.crt'),
    certFile: join(dir, 'tls.crt'),
    keyFile: join(dir, 'tls.key'),
    issue: () => Promise.reject(new Error('files are given')),
  };
  await writeFile(files.clientCaFile, first.cert);
  await writeFile(files.certFile, server.cert);
  await writeFile(files.keyFile, server.key);
  const context = await loadMtlsContext(files);
  const listener = tls.createServer({ ...context, requestCert: true, rejectUnauthorized: true });
  listener.on('secureConnection', (s) => {
    // Read, so the client's end is seen and the socket closes (an unread socket never does).
    s.resume();
    s.end('ok');
  });
  listener.on('tlsClientError', (_err, s) => s.destroy());
  await new Promise<void>((resolve) => listener.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const port = (listener.address() as { port: number }).port;
  const stop = keepMtlsFresh(listener, files, {
    current: context,
    logger: pino({ level: 'silent' }),
    reloadMs: 50,
  });
  try {
    assert.equal(await accepted(port, first), true);
    assert.equal(await accepted(port, second), false);
    await writeFile(files.clientCaFile, second.cert);
    let switched = false;
    for (let i = 0; i < 100 && !switched; i++) {
      await new Promise((r) => setTimeout(r, 20));
      switched = await accepted(port, second);
    }
    assert.equal(switched, true);
    assert.equal(await accepted(port, first), false);
  } finally {
    stop();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  }
});

test('a client CA file that is not PEM is refused with a coded error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'postern-konn-tls-'));
  try {
    await writeFile(join(dir, 'ca.crt'), 'not a certificate');
    await assert.rejects(
      loadMtlsContext({
        clientCaFile: join(dir, 'ca.crt'),
        issue: () => Promise.resolve({ certPem: server.cert, keyPem: server.key }),
      }),
      { code: 'POSTERN_ERR_KONNECTIVITY_OPTIONS' },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
