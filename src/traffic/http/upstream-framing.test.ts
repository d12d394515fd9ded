import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { startRawBackend, type RawBackend } from './test-raw-backend.js';
import { makePool, send, startProxy, type Proxy } from './test-kit.js';

describe('upstream responses whose framing the proxy cannot pass on', () => {
  const started: { proxy: Proxy; backend: RawBackend }[] = [];

  after(async () => {
    for (const { proxy, backend } of started) {
      await proxy.close();
      await backend.close();
    }
  });

  /** A proxy in front of a raw backend that answers `answer` once the request head is in. */
  async function proxyTo(answer: string): Promise<Proxy> {
    const backend = await startRawBackend((r) => (r.includes('\r\n\r\n') ? answer : undefined));
    // idle_timeout_ms is long: a 502 must come from the answer itself, not from a timeout.
    const proxy = await startProxy({
      pool: makePool('raw', [backend.address]),
      idleTimeoutMs: 60_000,
    });
    started.push({ proxy, backend });
    return proxy;
  }

  test('a response head with bare LF line ends gets 502 at once', async () => {
    for (const answer of [
      'HTTP/1.1 200 OK\nContent-Length: 2\n\nok',
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\nok',
    ]) {
      const proxy = await proxyTo(answer);
      const res = await send(proxy.port, { path: '/bare-lf' });
      assert.equal(res.status, 502, JSON.stringify(answer));
      assert.equal(res.headers['x-postern-error'], 'POSTERN_ERR_UPSTREAM_PROTOCOL');
      assert.match(res.text, /bare LF line ending in the response head/);
    }
  });

  test('Transfer-Encoding gzip, chunked gets 502 rather than a body without its coding', async () => {
    const proxy = await proxyTo(
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n4\r\n\x1f\x8b\x08\x00\r\n0\r\n\r\n',
    );
    const res = await send(proxy.port, { path: '/te-gzip' });
    assert.equal(res.status, 502);
    assert.equal(res.headers['x-postern-error'], 'POSTERN_ERR_UPSTREAM_PROTOCOL');
    assert.match(res.text, /unsupported Transfer-Encoding "gzip, chunked"/);
  });

  test('Transfer-Encoding chunked alone still passes, body bytes intact', async () => {
    const proxy = await proxyTo(
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED\r\n\r\n4\r\n\x1f\x8b\x08\x00\r\n0\r\n\r\n',
    );
    const res = await send(proxy.port, { path: '/te-chunked' });
    assert.equal(res.status, 200);
    assert.deepEqual([...res.body], [0x1f, 0x8b, 0x08, 0x00]);
  });
});
