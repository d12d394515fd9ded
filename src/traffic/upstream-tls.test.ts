// The reasons a failed TLS handshake to a node gives: what the operator reads in the log, the
// node's monitor status and `error_detail: full` bodies.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { startUpstreamTls, upstreamTlsFromConfig } from './upstream-tls.js';

test('a node that does not speak TLS fails with the one-line OpenSSL reason, not its source location', async () => {
  const plain = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
  });
  plain.listen(0, '127.0.0.1');
  await once(plain, 'listening');
  const port = (plain.address() as AddressInfo).port;
  const tls = upstreamTlsFromConfig('plain', undefined, { verify: false });
  assert.ok(tls);
  const raw = net.connect({ host: '127.0.0.1', port });
  await once(raw, 'connect');
  try {
    await assert.rejects(
      startUpstreamTls(raw, `127.0.0.1:${port}`, { tls, timeoutMs: 2000 }),
      (err: Error) => {
        assert.match(
          err.message,
          /failed: wrong version number \(ERR_SSL_WRONG_VERSION_NUMBER\)\./,
        );
        assert.doesNotMatch(err.message, /SSL routines|openssl|\n/);
        return true;
      },
    );
  } finally {
    raw.destroy();
    plain.close();
  }
});
