import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import { parseClientHello } from './client-hello.js';

/** Captures the first bytes a real Node TLS client sends (its ClientHello). */
async function captureHello(options: tls.ConnectionOptions): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const got = new Promise<Buffer>((resolve) =>
    server.once('connection', (s) => {
      let all = Buffer.alloc(0);
      s.on('data', (c: Buffer) => {
        all = Buffer.concat([all, c]);
        const len = all.length >= 5 ? all.readUInt16BE(3) + 5 : Infinity;
        if (all.length >= len) {
          resolve(all.subarray(0, len));
          s.destroy();
        }
      });
    }),
  );
  const client = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
  client.on('error', () => undefined);
  const hello = await got;
  client.destroy();
  await new Promise((r) => server.close(r));
  return hello;
}

/** Re-frames one handshake record's payload into records of at most `size` bytes. */
function refragment(hello: Buffer, size: number): Buffer {
  const payload = hello.subarray(5);
  const out: Buffer[] = [];
  for (let off = 0; off < payload.length; off += size) {
    const part = payload.subarray(off, off + size);
    const header = Buffer.from([22, 3, 1, 0, 0]);
    header.writeUInt16BE(part.length, 3);
    out.push(header, part);
  }
  return Buffer.concat(out);
}

describe('ClientHello parser', () => {
  let withSni: Buffer;
  let withoutSni: Buffer;

  before(async () => {
    withSni = await captureHello({
      servername: 'App.Example.com',
      ALPNProtocols: ['h2', 'http/1.1'],
    });
    withoutSni = await captureHello({ servername: '' });
  });

  test('reads the SNI name (lower case) and the ALPN list of a real ClientHello', () => {
    assert.deepEqual(parseClientHello(withSni), {
      status: 'ok',
      serverName: 'app.example.com',
      alpn: ['h2', 'http/1.1'],
    });
    assert.deepEqual(parseClientHello(withoutSni), {
      status: 'ok',
      serverName: undefined,
      alpn: [],
    });
  });

  test('every strict prefix is incomplete, never invalid', () => {
    for (let n = 0; n < withSni.length; n++) {
      assert.equal(
        parseClientHello(withSni.subarray(0, n)).status,
        'incomplete',
        `prefix of ${n} bytes`,
      );
    }
  });

  test('a ClientHello split over several records is reassembled', () => {
    for (const size of [1, 7, 100]) {
      const result = parseClientHello(refragment(withSni, size));
      assert.equal(
        result.status === 'ok' && result.serverName,
        'app.example.com',
        `records of ${size} bytes`,
      );
    }
  });

  test('plain HTTP, other record types and broken lengths are invalid with a reason', () => {
    assert.deepEqual(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n\r\n')), {
      status: 'invalid',
      reason: 'not a TLS handshake record',
    });
    const alert = Buffer.from(withSni);
    alert[0] = 21;
    assert.equal(parseClientHello(alert).status, 'invalid');
    const notHello = Buffer.from(withSni);
    notHello[5] = 2;
    assert.equal(parseClientHello(notHello).status, 'invalid');
    const badSession = Buffer.from(withSni);
    badSession[5 + 4 + 34] = 200;
    assert.equal(parseClientHello(badSession).status, 'invalid');
  });

  test('arbitrary bytes and mutated ClientHellos never throw', () => {
    const check = (b: Buffer): void => {
      const r = parseClientHello(b);
      assert.ok(['ok', 'incomplete', 'invalid'].includes(r.status));
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => check(Buffer.from(bytes))));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 8 }),
        (edits) => {
          const b = Buffer.from(withSni);
          for (const [at, value] of edits) b[at % b.length] = value;
          check(b);
        },
      ),
    );
  });
});
