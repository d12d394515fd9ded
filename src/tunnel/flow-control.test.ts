import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { INITIAL_WINDOW } from '../protocol/index.js';
import { MuxSession } from './session.js';
import type { MuxStream } from './stream.js';
import {
  FakeClock,
  memoryPair,
  nextEvent,
  patternBytes,
  quiet,
  readAll,
  sessionPair,
  sha256,
  within,
  writeAll,
} from './test-kit.js';

test('a stalled reader stops only its own stream: another moves 64 MiB meanwhile', async () => {
  const { client, server, dispose } = await sessionPair();
  try {
    const stalledOut = quiet(client.openStream());
    const fastOut = quiet(client.openStream());
    const stalledIn = quiet(await server.accept());
    const fastIn = quiet(await server.accept());
    let stalledDone = false;
    const stalledData = patternBytes(8 * 1024 * 1024, 11);
    const stalledWrite = writeAll(stalledOut, stalledData).then(() => (stalledDone = true));

    const fastData = patternBytes(64 * 1024 * 1024, 12);
    const [received] = await within(
      Promise.all([readAll(fastIn), writeAll(fastOut, fastData, 256 * 1024)]),
      60_000,
      '64 MiB beside a stalled stream',
    );
    assert.equal(sha256(received), sha256(fastData), 'the fast stream carried its data intact');

    const sent = stalledOut.stats.bytesSent;
    assert.equal(stalledDone, false, 'the stalled sender is still waiting for window');
    assert.ok(sent > 0, 'the stalled stream did send up to its window');
    assert.ok(
      sent <= INITIAL_WINDOW + stalledIn.stats.windowGranted,
      `in flight ${sent} exceeds the granted window`,
    );
    assert.ok(
      sent <= INITIAL_WINDOW,
      `a reader that never reads grants nothing, yet ${sent} bytes were sent`,
    );
    assert.equal(
      stalledIn.stats.bufferedBytes,
      sent,
      'everything sent sits unread at the receiver',
    );
    assert.equal(
      stalledIn.stats.receiveWindow,
      INITIAL_WINDOW,
      'an unread stream does not grow its window',
    );

    // Once the reader wakes up, the stalled stream completes too.
    const rest = await within(readAll(stalledIn), 20_000, 'stalled stream after resume');
    await stalledWrite;
    assert.equal(sha256(rest), sha256(stalledData));
  } finally {
    dispose();
  }
});

test('the receive window grows past 256 KiB when the consumer keeps up', async () => {
  // A frozen clock makes every drain look instant, so growth does not depend on machine speed.
  const clock = new FakeClock();
  const maxWindow = 4 * 1024 * 1024;
  const { client, server, dispose } = await sessionPair({
    client: { clock },
    server: { clock, maxWindow },
  });
  try {
    const out = quiet(client.openStream());
    const data = patternBytes(32 * 1024 * 1024, 5);
    const sending = writeAll(out, data, 256 * 1024);
    const inbound = quiet(await server.accept());
    const received = await within(readAll(inbound), 30_000, '32 MiB');
    await sending;
    assert.equal(sha256(received), sha256(data));
    assert.equal(inbound.stats.receiveWindow, maxWindow, 'the window doubled up to maxWindow');
    assert.ok(
      out.stats.maxSendWindow > INITIAL_WINDOW,
      `sender saw at most ${out.stats.maxSendWindow}`,
    );
    assert.ok(out.stats.maxSendWindow <= maxWindow, 'never more than maxWindow in flight');
  } finally {
    dispose();
  }
});

type Op = { kind: 'write'; size: number } | { kind: 'read'; size: number } | { kind: 'wait' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('write' as const), size: fc.integer({ min: 1, max: 400_000 }) }),
  fc.record({ kind: fc.constant('read' as const), size: fc.integer({ min: 1, max: 400_000 }) }),
  fc.constant({ kind: 'wait' as const }),
);

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

test('property: bytes in flight never exceed the receive window, whatever the writes and reads', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), async (ops) => {
      const [a, b] = memoryPair();
      const client = new MuxSession(a, {
        role: 'client',
        keepAliveIntervalMs: 0,
        maxWindow: 1024 * 1024,
      });
      const server = new MuxSession(b, {
        role: 'server',
        keepAliveIntervalMs: 0,
        maxWindow: 1024 * 1024,
      });
      try {
        const out = quiet(client.openStream());
        const inbound = quiet(await within(server.accept(), 2000, 'accept'));
        let written = 0;
        let consumed = 0;
        const check = (): void => {
          const sent = out.stats.bytesSent;
          const rx = inbound.stats;
          assert.ok(
            sent <= INITIAL_WINDOW + rx.windowGranted,
            `sent ${sent} beyond granted ${rx.windowGranted}`,
          );
          assert.ok(
            sent - consumed <= rx.receiveWindow,
            `in flight ${sent - consumed} > window ${rx.receiveWindow}`,
          );
          assert.ok(
            rx.bufferedBytes <= rx.receiveWindow,
            'receiver buffers no more than its window',
          );
        };
        for (const op of ops) {
          if (op.kind === 'write') {
            out.write(patternBytes(op.size, written + 1));
            written += op.size;
          } else if (op.kind === 'read') {
            const chunk = inbound.read(Math.min(op.size, inbound.readableLength)) as Buffer | null;
            consumed += chunk?.length ?? 0;
          }
          await settle();
          check();
        }
        out.end();
        inbound.on('data', (chunk: Buffer) => (consumed += chunk.length));
        await within(nextEvent(inbound, 'end'), 3000, 'drain the rest');
        assert.equal(consumed, written, 'every byte written was delivered');
        assert.equal(client.closed || server.closed, false, 'no protocol error closed a session');
      } finally {
        client.destroy();
        server.destroy();
      }
    }),
    { numRuns: 100 },
  );
});

test('writes complete only when the peer window admits them', async () => {
  const { client, server, dispose } = await sessionPair();
  try {
    const out: MuxStream = quiet(client.openStream());
    const inbound = quiet(await server.accept());
    let completed = false;
    out.write(Buffer.alloc(INITIAL_WINDOW + 1000), () => (completed = true));
    await within(
      (async () => {
        while (inbound.readableLength < INITIAL_WINDOW) await new Promise((r) => setTimeout(r, 5));
      })(),
      5000,
      'first window of data',
    );
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(completed, false, 'the write waits while its tail is beyond the window');
    assert.equal(out.stats.sendWindow, 0);
    const all = readAll(inbound);
    await within(
      (async () => {
        while (!completed) await new Promise((r) => setTimeout(r, 5));
      })(),
      5000,
      'write completion after the reader drained',
    );
    out.end();
    assert.equal((await all).length, INITIAL_WINDOW + 1000);
  } finally {
    dispose();
  }
});
