import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { connectionRate, pingPong } from './tcp-load.js';

/** A server on 127.0.0.1 that treats each connection with `handle`; closed after the test. */
async function server(
  t: TestContext,
  handle: (s: net.Socket) => void,
): Promise<{ port: number; accepted: () => number }> {
  let accepted = 0;
  const srv = net.createServer((socket) => {
    accepted++;
    socket.on('error', () => undefined);
    handle(socket);
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  t.after(() => new Promise<void>((resolve) => srv.close(() => resolve())));
  return { port: (srv.address() as net.AddressInfo).port, accepted: () => accepted };
}

const signal = new AbortController().signal;

test('connectionRate counts every completed connect-echo-close and nothing else', async (t) => {
  const echo = await server(t, (s) => s.pipe(s));
  const r = await connectionRate(echo.port, { concurrency: 4, durationMs: 200, signal });
  assert.equal(r.errors, 0);
  assert.ok(r.connections > 0);
  assert.equal(r.connections, echo.accepted());
  assert.ok(Math.abs(r.perSecond - (r.connections / r.ms) * 1000) < 1e-9);
});

test('connectionRate counts a connection closed before its echo as failed', async (t) => {
  const rude = await server(t, (s) => s.resume().end());
  const r = await connectionRate(rude.port, { concurrency: 2, durationMs: 100, signal });
  assert.equal(r.connections, 0);
  assert.ok(r.errors > 0);
  assert.match(r.firstError ?? '', /closed before the echo/);
});

test('pingPong returns one sample per measured round trip, in microseconds', async (t) => {
  // Echo each message back in two pieces, so a round trip needs both.
  const split = await server(t, (s) =>
    s.on('data', (chunk: Buffer) => {
      s.write(chunk.subarray(0, 10));
      setImmediate(() => s.write(chunk.subarray(10)));
    }),
  );
  const samples = await pingPong(split.port, { rounds: 50, warmup: 5, signal });
  assert.equal(samples.length, 50);
  assert.ok(samples.every((us) => us > 0 && us < 5_000_000));
});

test('pingPong rejects when the peer closes mid-way', async (t) => {
  let messages = 0;
  const flaky = await server(t, (s) =>
    s.on('data', (chunk: Buffer) => {
      if (++messages === 20) s.destroy();
      else s.write(chunk);
    }),
  );
  await assert.rejects(
    pingPong(flaky.port, { rounds: 100, warmup: 0, signal }),
    /closed after 19 round trips/,
  );
});
