import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPosternError } from '../core/index.js';
import { Keepalive } from './keepalive.js';
import { MuxSession } from './session.js';
import {
  FakeClock,
  nextEvent,
  quiet,
  sessionPair,
  silentTransport,
  tcpPair,
  within,
} from './test-kit.js';

test('keepalive pings every interval while the peer is heard from', () => {
  const clock = new FakeClock();
  let pings = 0;
  let dead = false;
  const k = new Keepalive({
    clock,
    intervalMs: 1000,
    timeoutMs: 3000,
    sendPing: () => pings++,
    onDead: () => (dead = true),
  });
  for (let i = 0; i < 10; i += 1) {
    clock.advance(1000);
    k.touch();
  }
  assert.equal(pings, 10);
  assert.equal(dead, false);
  k.stop();
});

test('keepalive declares a peer never heard from dead exactly at the timeout', () => {
  const clock = new FakeClock();
  let deadAt: number | undefined;
  const start = clock.monotonic();
  new Keepalive({
    clock,
    intervalMs: 1000,
    timeoutMs: 2500,
    sendPing: () => {},
    onDead: () => (deadAt = clock.monotonic()),
  });
  clock.advance(2499);
  assert.equal(deadAt, undefined);
  clock.advance(1);
  assert.equal(deadAt, start + 2500);
});

test('keepalive declares the peer dead within 1.25 timeouts of its last byte', () => {
  const clock = new FakeClock();
  let deadAt: number | undefined;
  const k = new Keepalive({
    clock,
    intervalMs: 1000,
    timeoutMs: 4000,
    sendPing: () => {},
    onDead: () => (deadAt = clock.monotonic()),
  });
  clock.advance(2500);
  k.touch();
  const lastByte = clock.monotonic();
  clock.advance(3999);
  assert.equal(deadAt, undefined, 'not before the timeout');
  clock.advance(1001);
  assert.ok(
    deadAt !== undefined && deadAt - lastByte >= 4000 && deadAt - lastByte <= 5000,
    `dead at +${String(deadAt)}`,
  );
});

test('a silent peer is declared dead within the keepalive timeout (fake clock)', async () => {
  const clock = new FakeClock();
  const session = new MuxSession(silentTransport(), {
    role: 'client',
    clock,
    keepAliveIntervalMs: 15_000,
    keepAliveTimeoutMs: 30_000,
  });
  const stream = session.openStream();
  const streamErr = nextEvent(stream, 'error');
  const closed = nextEvent(session, 'close');
  clock.advance(29_999);
  assert.equal(session.closed, false);
  clock.advance(1);
  assert.equal(session.closed, true);
  assert.ok(isPosternError(await closed, 'POSTERN_ERR_TUNNEL_KEEPALIVE_TIMEOUT'));
  assert.ok(isPosternError(await streamErr, 'POSTERN_ERR_TUNNEL_KEEPALIVE_TIMEOUT'));
});

test('keepalive over real sockets measures RTT and keeps an idle session alive', async () => {
  const { client, server, dispose } = await sessionPair({
    client: { keepAliveIntervalMs: 20, keepAliveTimeoutMs: 200 },
    server: { keepAliveIntervalMs: 20, keepAliveTimeoutMs: 200 },
  });
  try {
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(client.closed || server.closed, false, 'answered pings keep the session alive');
    assert.equal(typeof client.rttMs, 'number');
    assert.ok((client.rttMs ?? -1) >= 0);
  } finally {
    dispose();
  }
});

test('a peer whose socket stays open but never answers is dropped after the timeout', async () => {
  const [a, b] = await tcpPair();
  try {
    b.on('data', () => {}); // reads and discards: alive at TCP level, dead at tunnel level
    const started = Date.now();
    const session = new MuxSession(a, {
      role: 'client',
      keepAliveIntervalMs: 20,
      keepAliveTimeoutMs: 150,
    });
    quiet(session.openStream());
    const err = await within(nextEvent(session, 'close'), 3000, 'dead-peer detection');
    assert.ok(isPosternError(err, 'POSTERN_ERR_TUNNEL_KEEPALIVE_TIMEOUT'), String(err));
    assert.ok(Date.now() - started >= 140, 'not declared dead before the timeout');
  } finally {
    a.destroy();
    b.destroy();
  }
});
