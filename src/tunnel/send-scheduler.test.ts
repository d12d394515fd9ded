import test from 'node:test';
import assert from 'node:assert/strict';
import { Writable, type Duplex } from 'node:stream';
import { FrameDecoder, type Frame } from '../protocol/index.js';
import { SendScheduler, type Sendable } from './send-scheduler.js';

/** A transport that records each write it gets. */
function recordingTransport(): { transport: Writable; writes: Buffer[] } {
  const writes: Buffer[] = [];
  const transport = new Writable({
    write(chunk: Buffer, _encoding, cb) {
      writes.push(chunk);
      cb();
    },
  });
  return { transport, writes };
}

/** A stream with one message to send. */
function message(id: number, text: string): Sendable {
  let payload: Buffer | undefined = Buffer.from(text);
  return {
    id,
    queued: false,
    wantsSend: () => payload !== undefined,
    takePayload: () => {
      const out = payload as Buffer;
      payload = undefined;
      return out;
    },
    takeFlags: () => 0,
    payloadSent: () => undefined,
  };
}

function decode(writes: Buffer[]): Frame[] {
  const frames: Frame[] = [];
  const decoder = new FrameDecoder({ onFrame: (f) => frames.push(f) });
  for (const w of writes) decoder.push(w);
  return frames;
}

test('small frames of one turn leave a few per write, in order, the rest at the end of the turn', async () => {
  const { transport, writes } = recordingTransport();
  const scheduler = new SendScheduler(transport as unknown as Duplex);
  for (let id = 1; id <= 19; id++) scheduler.wantSend(message(id, `request ${id}`));
  assert.equal(writes.length, 2, 'two full batches of eight went out at once');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(writes.length, 3, 'the last three left at the end of the turn');
  const frames = decode(writes);
  assert.deepEqual(
    frames.map((f) => [f.streamId, f.payload.toString()]),
    Array.from({ length: 19 }, (_, i) => [i + 1, `request ${i + 1}`]),
  );
});
