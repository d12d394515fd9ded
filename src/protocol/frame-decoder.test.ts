import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { isPosternError } from '../core/index.js';
import { encodeFrame, Flag, FrameType, HEADER_SIZE } from './frame.js';
import type { Frame, FrameHeader } from './frame.js';
import { FrameDecoder } from './frame-decoder.js';

/** Splits `bytes` at the given cut points (any chunking, including 1-byte pieces). */
function chunk(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  fc
    .record({
      type: fc.constant(FrameType.Data),
      flags: fc.constantFrom(0, Flag.SYN, Flag.ACK, Flag.FIN, Flag.RST, Flag.SYN | Flag.FIN),
      streamId: fc.integer({ min: 1, max: 0xffff_ffff }),
      payload: fc.uint8Array({ maxLength: 3000 }).map((a) => Buffer.from(a)),
    })
    .map((f) => ({ ...f, length: f.payload.length })),
  fc
    .record({
      type: fc.constant(FrameType.WindowUpdate),
      flags: fc.constantFrom(0, Flag.SYN, Flag.ACK, Flag.FIN, Flag.RST),
      streamId: fc.integer({ min: 1, max: 0xffff_ffff }),
      length: fc.integer({ min: 0, max: 0xffff_ffff }),
    })
    .map((f) => ({ ...f, payload: Buffer.alloc(0) })),
  fc
    .record({
      type: fc.constant(FrameType.Ping),
      flags: fc.constantFrom(Flag.SYN, Flag.ACK),
      streamId: fc.constant(0),
      length: fc.integer({ min: 0, max: 0xffff_ffff }),
    })
    .map((f) => ({ ...f, payload: Buffer.alloc(0) })),
  fc
    .record({
      type: fc.constant(FrameType.GoAway),
      flags: fc.constant(0),
      streamId: fc.constant(0),
      length: fc.integer({ min: 0, max: 2 }),
    })
    .map((f) => ({ ...f, payload: Buffer.alloc(0) })),
);

const plain = (f: Frame): object => ({ ...f, payload: [...f.payload] });

test('property: frames survive encode and decode under any chunking', () => {
  fc.assert(
    fc.property(
      fc.array(frameArb, { maxLength: 20 }),
      fc.array(fc.nat(), { maxLength: 60 }),
      (frames, cuts) => {
        const wire = Buffer.concat(frames.map(encodeFrame));
        const got: Frame[] = [];
        const decoder = new FrameDecoder({ onFrame: (f) => got.push(f) });
        for (const piece of chunk(wire, cuts)) decoder.push(piece);
        assert.deepEqual(got.map(plain), frames.map(plain));
        assert.equal(decoder.state, 'header');
        assert.equal(decoder.bufferedBytes, 0);
      },
    ),
  );
});

test('property: streaming mode delivers the same payload bytes in pieces, never buffering them', () => {
  fc.assert(
    fc.property(
      fc.array(frameArb, { maxLength: 20 }),
      fc.array(fc.nat(), { maxLength: 60 }),
      (frames, cuts) => {
        const wire = Buffer.concat(frames.map(encodeFrame));
        const got: Frame[] = [];
        let parts: Buffer[] = [];
        const decoder = new FrameDecoder(
          {
            onFrame: (f) => got.push(f),
            onDataPart: (header: FrameHeader, part: Buffer, end: boolean) => {
              parts.push(part);
              if (end) {
                got.push({ ...header, payload: Buffer.concat(parts) });
                parts = [];
              }
            },
          },
          { streaming: true },
        );
        for (const piece of chunk(wire, cuts)) {
          decoder.push(piece);
          assert.ok(decoder.bufferedBytes < HEADER_SIZE, 'only a partial header is ever held');
        }
        assert.deepEqual(got.map(plain), frames.map(plain));
      },
    ),
  );
});

/** Random bytes, and valid frame streams with random bytes overwritten (which get deeper into the decoder). */
const hostileBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 20_000 }),
  fc
    .tuple(
      fc.array(frameArb, { minLength: 1, maxLength: 10 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
    )
    .map(([frames, edits]) => {
      const wire = Buffer.concat(frames.map(encodeFrame));
      for (const [at, value] of edits) wire[at % wire.length] = value;
      return wire;
    }),
);

test('property: hostile bytes yield frames or a coded error, never more than header + maxFrameSize buffered', () => {
  const maxFrameSize = 2048;
  fc.assert(
    fc.property(hostileBytes, fc.array(fc.nat(), { maxLength: 40 }), (bytes, cuts) => {
      const decoder = new FrameDecoder({ onFrame: () => {} }, { maxFrameSize });
      let failure: unknown;
      for (const piece of chunk(Buffer.from(bytes), cuts)) {
        try {
          decoder.push(piece);
        } catch (err) {
          failure = err;
          break;
        }
        assert.ok(decoder.bufferedBytes <= HEADER_SIZE + maxFrameSize);
      }
      if (failure !== undefined) {
        assert.ok(isPosternError(failure), 'threw something other than a coded PosternError');
        assert.match(failure.code, /^POSTERN_ERR_FRAME_/);
        assert.equal(decoder.state, 'failed');
        assert.throws(
          () => decoder.push(Buffer.from([0])),
          (e) => e === failure,
          'stays failed',
        );
      }
    }),
    { numRuns: 500 },
  );
});

test('a payload inside one chunk is a zero-copy view of it', () => {
  const payload = Buffer.from('zero-copy payload');
  const wire = encodeFrame({
    type: FrameType.Data,
    flags: 0,
    streamId: 1,
    length: payload.length,
    payload,
  });
  let got: Buffer | undefined;
  new FrameDecoder({ onFrame: (f) => (got = f.payload) }).push(wire);
  assert.ok(got !== undefined);
  assert.equal(got.buffer, wire.buffer, 'shares the input memory');
  assert.equal(got.byteOffset, wire.byteOffset + HEADER_SIZE);
});

test('a data frame over maxFrameSize fails before any payload is buffered', () => {
  const decoder = new FrameDecoder({ onFrame: () => {} }, { maxFrameSize: 10 });
  const header = encodeFrame({
    type: FrameType.Data,
    flags: 0,
    streamId: 1,
    length: 11,
    payload: Buffer.alloc(11),
  }).subarray(0, HEADER_SIZE);
  assert.throws(() => decoder.push(header), { code: 'POSTERN_ERR_FRAME_TOO_LARGE' });
  assert.equal(decoder.bufferedBytes, 0);
});

test('one byte at a time decodes a frame split everywhere', () => {
  const payload = Buffer.from('abc');
  const wire = encodeFrame({
    type: FrameType.Data,
    flags: Flag.FIN,
    streamId: 3,
    length: 3,
    payload,
  });
  const got: Frame[] = [];
  const decoder = new FrameDecoder({ onFrame: (f) => got.push(f) });
  for (const byte of wire) decoder.push(Buffer.from([byte]));
  assert.equal(got.length, 1);
  assert.equal(got[0]?.payload.toString(), 'abc');
  assert.equal(got[0]?.flags, Flag.FIN);
});
