import test from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { INITIAL_WINDOW } from '../protocol/index.js';
import { patternBytes, quiet, readAll, sessionPair } from './test-kit.js';

// The shortcuts MuxStream takes for small messages (writes that skip Writable's queue, reads
// handed to a direct reader) must keep every byte, its order, backpressure and the FIN.

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('small writes without callbacks arrive whole and in order, past the window and with the FIN last', async () => {
  const { client, server, dispose } = await sessionPair();
  try {
    const out = quiet(client.openStream());
    const inbound = quiet(await server.accept());
    inbound.pause();
    const data = patternBytes(INITIAL_WINDOW * 3 + 777, 7);
    let refused = 0;
    for (let at = 0; at < data.length; at += 1000) {
      if (!out.write(data.subarray(at, at + 1000))) refused++;
    }
    out.end();
    await tick();
    assert.ok(out.stats.sendWindow < 1000, 'the reader holds back: the window ran out');
    assert.ok(refused > 0, 'writes beyond the window report backpressure');
    const finished = once(out, 'finish');
    const all = readAll(inbound);
    inbound.resume();
    assert.deepEqual(await all, data);
    await finished;
  } finally {
    dispose();
  }
});

test('a direct reader gets payload while the stream flows; what arrives while paused comes by data events, in order', async () => {
  const { client, server, dispose } = await sessionPair();
  try {
    const out = quiet(client.openStream());
    const inbound = quiet(await server.accept());
    const got: Buffer[] = [];
    let direct = 0;
    let events = 0;
    inbound.setDirectReader((chunk) => {
      direct++;
      got.push(chunk);
    });
    inbound.on('data', (chunk: Buffer) => {
      events++;
      got.push(chunk);
    });
    const ended = once(inbound, 'end');
    const data = patternBytes(60_000, 3);
    const send = async (from: number, to: number): Promise<void> => {
      for (let at = from; at < to; at += 500) out.write(data.subarray(at, Math.min(at + 500, to)));
      for (let i = 0; i < 20 && got.reduce((n, c) => n + c.length, 0) < to; i++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    await send(0, 20_000);
    assert.ok(direct > 0, 'flowing: payload went to the direct reader');
    inbound.pause();
    await send(20_000, 40_000);
    assert.equal(inbound.readableLength, 20_000, 'paused: payload is buffered, not handed over');
    const eventsBefore = events;
    inbound.resume();
    await send(40_000, 60_000);
    out.end();
    await ended;
    assert.ok(events > eventsBefore, 'what was buffered came by data events');
    assert.deepEqual(Buffer.concat(got), data);
    assert.equal(inbound.stats.bufferedBytes, 0);
  } finally {
    dispose();
  }
});

test('with a second data listener (a byte counter) every chunk still goes through data events', async () => {
  const { client, server, dispose } = await sessionPair();
  try {
    const out = quiet(client.openStream());
    const inbound = quiet(await server.accept());
    const got: Buffer[] = [];
    const take = (chunk: Buffer): void => void got.push(chunk);
    let counted = 0;
    inbound.setDirectReader(take);
    inbound.on('data', take);
    inbound.on('data', (chunk: Buffer) => (counted += chunk.length));
    const ended = once(inbound, 'end');
    const data = patternBytes(30_000, 5);
    for (let at = 0; at < data.length; at += 700) out.write(data.subarray(at, at + 700));
    out.end();
    await ended;
    assert.deepEqual(Buffer.concat(got), data);
    assert.equal(counted, data.length, 'the counter saw every byte');
  } finally {
    dispose();
  }
});
