import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { once } from 'node:events';
import { Flag, FrameType, HEADER_SIZE, MessageDecoder } from '../../src/protocol/index.js';
import { startTestEdge, type TestEdge } from '../harness/harness.js';

let edge: TestEdge;
before(async () => {
  edge = await startTestEdge();
});
after(async () => {
  await edge.stop();
});

interface SeenFrame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** Splits what the edge sent into yamux frames (data frames with their payload). */
function framesOf(bytes: Buffer): SeenFrame[] {
  const frames: SeenFrame[] = [];
  let at = 0;
  while (at + HEADER_SIZE <= bytes.length) {
    const type = bytes.readUInt8(at + 1);
    const length = bytes.readUInt32BE(at + 8);
    const size = type === FrameType.Data ? length : 0;
    frames.push({
      type,
      flags: bytes.readUInt16BE(at + 2),
      streamId: bytes.readUInt32BE(at + 4),
      payload: bytes.subarray(at + HEADER_SIZE, at + HEADER_SIZE + size),
    });
    at += HEADER_SIZE + size;
  }
  return frames;
}

/** SYN window updates for `count` client streams (ids 1, 3, 5, ...). */
function synFlood(count: number): Buffer {
  const out = Buffer.alloc(count * HEADER_SIZE);
  for (let i = 0; i < count; i++) {
    const at = i * HEADER_SIZE;
    out.writeUInt8(FrameType.WindowUpdate, at + 1);
    out.writeUInt16BE(Flag.SYN, at + 2);
    out.writeUInt32BE(2 * i + 1, at + 4);
  }
  return out;
}

/** A TLS client on a tunnel port without a certificate, keeping what the edge sends. */
interface RawPeer {
  readonly socket: tls.TLSSocket;
  /** Everything received since the handshake. */
  readonly received: Buffer[];
  /** Resolves true once the edge closed the connection, false after `withinMs`. */
  readonly closedWithin: (withinMs: number) => Promise<boolean>;
}

/** Connects to the tunnel port at `port` as a peer with no client certificate. */
async function rawPeer(port: number): Promise<RawPeer> {
  const socket = tls.connect({
    host: '127.0.0.1',
    port,
    ALPNProtocols: ['postern-tunnel/1'],
    rejectUnauthorized: false,
  });
  socket.on('error', () => undefined);
  await once(socket, 'secureConnect');
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  const closedWithin = (withinMs: number) =>
    Promise.race([
      once(socket, 'close').then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), withinMs).unref()),
    ]);
  return { socket, received, closedWithin };
}

test('a peer without a client certificate gets one refusal frame, no streams, and a quick close', async () => {
  const { socket, received, closedWithin } = await rawPeer(edge.tunnelAddress.port);
  const started = Date.now();
  socket.write(synFlood(20_000));
  // Data for a stream it opened, as the reviewer's flood did.
  const data = Buffer.alloc(HEADER_SIZE + 64 * 1024);
  data.writeUInt32BE(3, 4);
  data.writeUInt32BE(64 * 1024, 8);
  for (let i = 0; i < 8; i++) socket.write(data);
  const closed = await closedWithin(5000);
  const elapsed = Date.now() - started;
  assert.ok(closed, 'the edge closed the connection');
  assert.ok(elapsed < 800, `closed within 800 ms (took ${elapsed} ms)`);

  const frames = framesOf(Buffer.concat(received));
  assert.equal(frames.length, 1, `one frame from the edge, got ${frames.length}`);
  const [answer] = frames;
  assert.equal(answer?.type, FrameType.Data);
  assert.equal(answer?.streamId, 1, 'the answer is on the first stream the peer opened');
  assert.equal(answer?.flags, Flag.ACK | Flag.FIN);
  const { messages } = new MessageDecoder().push(answer.payload);
  assert.deepEqual(
    (messages as { type: string; code?: string }[]).map((m) => [m.type, m.code]),
    [['error', 'POSTERN_ERR_TUNNEL_CERT_REJECTED']],
  );
});

test('a peer that opens no stream is cut after the handshake timeout without any answer', async () => {
  const quick = await startTestEdge({ tunnelHandshakeTimeoutMs: 300 });
  try {
    const { socket, received, closedWithin } = await rawPeer(quick.tunnelAddress.port);
    // A ping (not a stream) is not answered: only a stream opening gets the refusal.
    const started = Date.now();
    const ping = Buffer.alloc(HEADER_SIZE);
    ping.writeUInt8(FrameType.Ping, 1);
    ping.writeUInt16BE(Flag.SYN, 2);
    socket.write(ping);
    const closed = await closedWithin(3000);
    assert.ok(closed, 'the edge closed the connection');
    assert.ok(Date.now() - started >= 250, 'held until the handshake timeout');
    assert.equal(Buffer.concat(received).length, 0, 'no ping answer, no frame at all');
  } finally {
    await quick.stop();
  }
});
