import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import { stalledTlsHandshake } from '../../test/support/stalled-tls-handshake.js';
import { createSelfSignedCert } from '../../test/support/tls-cert.js';
import { TlsHandshakes } from './tls-handshakes.js';

let server: tls.Server;
let handshakes: TlsHandshakes;
let port = 0;

before(async () => {
  const { cert, key } = await createSelfSignedCert();
  server = tls.createServer({ cert, key }, (socket) =>
    socket.on('error', () => undefined).pipe(socket),
  );
  handshakes = new TlsHandshakes(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

after(() => {
  server.close();
});

test(
  'cutAll closes the connections still in their handshake and leaves finished ones open',
  { timeout: 10_000 },
  async () => {
    // The server's side of a handshake ends when the client's Finished arrives, after the client's.
    const accepted = once(server, 'secureConnection');
    const done = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    done.on('error', () => undefined);
    await accepted;
    const waiting = await stalledTlsHandshake(port);
    // The server's answer, still unread: the edge's close must be seen.
    waiting.resume();
    handshakes.cutAll();
    await once(waiting, 'close');
    done.write('still open');
    const [echoed] = (await once(done, 'data')) as [Buffer];
    assert.equal(echoed.toString(), 'still open', 'the finished handshake is not cut');
    done.destroy();
  },
);
