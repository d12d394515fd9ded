import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import {
  checkHeader,
  encodeGoAway,
  encodeHeader,
  encodePing,
  encodeWindowUpdate,
  Flag,
  FrameType,
  GoAwayCode,
} from './frame.js';
import type { FrameHeader } from './frame.js';

test('headers are 12 big-endian bytes: version, type, flags, stream id, length', () => {
  const bytes = encodeHeader({
    type: FrameType.WindowUpdate,
    flags: Flag.SYN | Flag.FIN,
    streamId: 0x01020304,
    length: 0xa0b0c0d0,
  });
  assert.deepEqual([...bytes], [0, 1, 0, 5, 1, 2, 3, 4, 0xa0, 0xb0, 0xc0, 0xd0]);
});

test('encoders set the fields the specification prescribes', () => {
  assert.deepEqual([...encodePing(7)], [0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7]);
  assert.deepEqual([...encodePing(7, { ack: true })], [0, 2, 0, 2, 0, 0, 0, 0, 0, 0, 0, 7]);
  assert.deepEqual(
    [...encodeGoAway(GoAwayCode.ProtocolError)],
    [0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
  );
  assert.deepEqual(
    [...encodeWindowUpdate(9, { delta: 256, flags: Flag.RST })],
    [0, 1, 0, 8, 0, 0, 0, 9, 0, 0, 1, 0],
  );
});

test('encodeHeader writes into a caller buffer without allocating', () => {
  const out = Buffer.alloc(12, 0xff);
  assert.equal(encodeHeader({ type: FrameType.Data, flags: 0, streamId: 1, length: 2 }, out), out);
  assert.deepEqual([...out], [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2]);
});

const h = (type: number, flags: number, streamId: number, length = 0): FrameHeader => ({
  type: type as FrameHeader['type'],
  flags,
  streamId,
  length,
});

test('checkHeader accepts every valid shape', () => {
  for (const header of [
    h(FrameType.Data, 0, 1, 100),
    h(FrameType.Data, Flag.SYN | Flag.FIN, 2, 0),
    h(FrameType.WindowUpdate, Flag.ACK, 3, 1 << 20),
    h(FrameType.WindowUpdate, Flag.RST, 4),
    h(FrameType.Ping, Flag.SYN, 0, 99),
    h(FrameType.Ping, Flag.ACK, 0, 99),
    h(FrameType.GoAway, 0, 0, 2),
  ]) {
    assert.equal(checkHeader(0, header, 1000), undefined, JSON.stringify(header));
  }
});

test('checkHeader names each malformation with its code', () => {
  const cases: [number, FrameHeader, string][] = [
    [1, h(FrameType.Data, 0, 1), 'POSTERN_ERR_FRAME_VERSION'],
    [0, h(4, 0, 1), 'POSTERN_ERR_FRAME_TYPE'],
    [0, h(FrameType.Data, 0x10, 1), 'POSTERN_ERR_FRAME_FLAGS'],
    [0, h(FrameType.WindowUpdate, Flag.SYN | Flag.ACK, 1), 'POSTERN_ERR_FRAME_FLAGS'],
    [0, h(FrameType.Ping, 0, 0), 'POSTERN_ERR_FRAME_FLAGS'],
    [0, h(FrameType.Ping, Flag.SYN | Flag.ACK, 0), 'POSTERN_ERR_FRAME_FLAGS'],
    [0, h(FrameType.GoAway, Flag.FIN, 0), 'POSTERN_ERR_FRAME_FLAGS'],
    [0, h(FrameType.Data, 0, 0), 'POSTERN_ERR_FRAME_STREAM_ID'],
    [0, h(FrameType.WindowUpdate, 0, 0), 'POSTERN_ERR_FRAME_STREAM_ID'],
    [0, h(FrameType.Ping, Flag.SYN, 5), 'POSTERN_ERR_FRAME_STREAM_ID'],
    [0, h(FrameType.GoAway, 0, 5), 'POSTERN_ERR_FRAME_STREAM_ID'],
    [0, h(FrameType.Data, 0, 1, 1001), 'POSTERN_ERR_FRAME_TOO_LARGE'],
  ];
  for (const [version, header, code] of cases) {
    assert.equal(checkHeader(version, header, 1000)?.code, code, JSON.stringify(header));
  }
});
