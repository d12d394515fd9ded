import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { isPosternError } from '../core/index.js';
import {
  encodeFrame,
  encodeGoAway,
  encodePing,
  encodeWindowUpdate,
  Flag,
  FrameDecoder,
  FrameType,
  GoAwayCode,
} from '../protocol/index.js';
import type { Frame } from '../protocol/index.js';
import { MuxSession } from './session.js';
import type { MuxStream } from './stream.js';
import { nextEvent, quiet, readAll, tcpPair, within } from './test-kit.js';

/** A hand-driven yamux peer: writes raw frames and records every frame it receives. */
class RawPeer {
  readonly frames: Frame[] = [];
  readonly #socket: Socket;
  #waiters: (() => void)[] = [];

  constructor(socket: Socket) {
    this.#socket = socket;
    const decoder = new FrameDecoder({
      onFrame: (f) => {
        this.frames.push(f);
        for (const w of this.#waiters.splice(0)) w();
      },
    });
    socket.on('data', (chunk: Buffer) => decoder.push(chunk));
    socket.on('error', () => {});
  }

  send(...frames: Buffer[]): void {
    for (const f of frames) this.#socket.write(f);
  }

  /** Waits for a received frame matching `match`. */
  async expect(match: (f: Frame) => boolean, what: string): Promise<Frame> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const found = this.frames.find(match);
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`raw peer never received ${what}`);
      await within(new Promise<void>((r) => this.#waiters.push(r)), 5000, what);
    }
  }
}

async function rawPair(
  role: 'client' | 'server',
  options: { ackWithFirstFrame?: boolean } = {},
): Promise<{ session: MuxSession; peer: RawPeer; dispose: () => void }> {
  const [a, b] = await tcpPair();
  const session = new MuxSession(a, { role, keepAliveIntervalMs: 0, ...options });
  return {
    session,
    peer: new RawPeer(b),
    dispose: () => {
      session.destroy();
      b.destroy();
    },
  };
}

const data = (streamId: number, payload: Buffer, flags = 0): Buffer =>
  encodeFrame({ type: FrameType.Data, flags, streamId, length: payload.length, payload });

test('SYNs out of id order are accepted (concurrent openers reorder them)', async () => {
  const { session, peer, dispose } = await rawPair('server');
  try {
    const ids: number[] = [];
    session.on('stream', (s: MuxStream) => ids.push(quiet(s).id));
    peer.send(...[7, 3, 1, 5].map((id) => encodeWindowUpdate(id, { flags: Flag.SYN })));
    for (const id of [7, 3, 1, 5]) {
      await peer.expect((f) => f.streamId === id && f.flags === Flag.ACK, `ACK for ${id}`);
    }
    assert.deepEqual(ids, [7, 3, 1, 5]);
    assert.equal(session.closed, false);
  } finally {
    dispose();
  }
});

test('a peer-opened stream gets data, FIN and an ACK on the first frame back', async () => {
  const { session, peer, dispose } = await rawPair('server');
  try {
    peer.send(data(1, Buffer.from('hi'), Flag.SYN), data(1, Buffer.from(' there'), Flag.FIN));
    const stream = await session.accept();
    assert.equal((await readAll(stream)).toString(), 'hi there');
    stream.end();
    await peer.expect((f) => f.streamId === 1 && (f.flags & Flag.ACK) !== 0, 'ACK');
    await peer.expect((f) => f.streamId === 1 && (f.flags & Flag.FIN) !== 0, 'FIN');
    const mine = peer.frames.filter((f) => f.streamId === 1);
    assert.ok(((mine[0]?.flags ?? 0) & Flag.ACK) !== 0, 'the first frame back carries ACK');
    assert.equal(mine.filter((f) => (f.flags & Flag.ACK) !== 0).length, 1, 'ACK is sent once');
  } finally {
    dispose();
  }
});

test('a same-parity or duplicate SYN is a protocol error: go-away 1, then close', async () => {
  for (const frames of [
    [encodeWindowUpdate(2, { flags: Flag.SYN })],
    [1, 1].map((id) => encodeWindowUpdate(id, { flags: Flag.SYN })),
  ]) {
    const { session, peer, dispose } = await rawPair('server');
    try {
      session.on('stream', quiet);
      const closed = nextEvent(session, 'close');
      peer.send(...frames);
      const goAway = await peer.expect((f) => f.type === FrameType.GoAway, 'go-away');
      assert.equal(goAway.length, GoAwayCode.ProtocolError);
      assert.ok(isPosternError(await within(closed, 5000, 'close'), 'POSTERN_ERR_TUNNEL_PROTOCOL'));
    } finally {
      dispose();
    }
  }
});

test('garbage on the wire ends the session with go-away 1 and a coded error', async () => {
  const { session, peer, dispose } = await rawPair('client');
  try {
    const closed = nextEvent(session, 'close');
    peer.send(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    const goAway = await peer.expect((f) => f.type === FrameType.GoAway, 'go-away');
    assert.equal(goAway.length, GoAwayCode.ProtocolError);
    const err = await within(closed, 5000, 'close');
    assert.ok(isPosternError(err, 'POSTERN_ERR_TUNNEL_PROTOCOL'), String(err));
    assert.ok(isPosternError((err as Error).cause, 'POSTERN_ERR_FRAME_VERSION'));
  } finally {
    dispose();
  }
});

test('data beyond the granted window is a protocol error', async () => {
  const { session, peer, dispose } = await rawPair('server');
  try {
    session.on('stream', quiet);
    const closed = nextEvent(session, 'close');
    peer.send(data(1, Buffer.alloc(256 * 1024), Flag.SYN), data(1, Buffer.alloc(1)));
    const goAway = await peer.expect((f) => f.type === FrameType.GoAway, 'go-away');
    assert.equal(goAway.length, GoAwayCode.ProtocolError);
    assert.ok(isPosternError(await within(closed, 5000, 'close'), 'POSTERN_ERR_TUNNEL_PROTOCOL'));
  } finally {
    dispose();
  }
});

test('data for an unknown stream is answered with RST; the session lives on', async () => {
  const { session, peer, dispose } = await rawPair('server');
  try {
    peer.send(data(41, Buffer.from('stray')));
    await peer.expect((f) => f.streamId === 41 && f.flags === Flag.RST, 'RST for 41');
    assert.equal(session.closed, false);
  } finally {
    dispose();
  }
});

test('pings from the peer are echoed with ACK', async () => {
  const { peer, dispose } = await rawPair('client');
  try {
    peer.send(encodePing(0xdeadbeef));
    const pong = await peer.expect(
      (f) => f.type === FrameType.Ping && f.flags === Flag.ACK,
      'pong',
    );
    assert.equal(pong.length, 0xdeadbeef);
  } finally {
    dispose();
  }
});

test('a go-away with an error code closes the session with a coded error', async () => {
  const { session, peer, dispose } = await rawPair('client');
  try {
    const goaway = nextEvent(session, 'goaway');
    const closed = nextEvent(session, 'close');
    peer.send(encodeGoAway(GoAwayCode.InternalError));
    assert.equal(await within(goaway, 5000, 'goaway'), GoAwayCode.InternalError);
    assert.ok(
      isPosternError(await within(closed, 5000, 'close'), 'POSTERN_ERR_TUNNEL_REMOTE_ERROR'),
    );
  } finally {
    dispose();
  }
});

test('with ackWithFirstFrame a stream taken by a listener is acknowledged by its first frame: data, or RST', async () => {
  const { session, peer, dispose } = await rawPair('client', { ackWithFirstFrame: true });
  try {
    const streams: MuxStream[] = [];
    session.on('stream', (s: MuxStream) => streams.push(quiet(s)));
    peer.send(
      encodeWindowUpdate(2, { flags: Flag.SYN }),
      encodeWindowUpdate(4, { flags: Flag.SYN }),
    );
    // A ping round trip later (frames are answered in order), still no frame for either stream.
    peer.send(encodePing(7));
    await peer.expect(
      (f) => f.type === FrameType.Ping && f.flags === Flag.ACK && f.length === 7,
      'the ping reply',
    );
    assert.deepEqual(
      peer.frames.filter((f) => f.streamId !== 0),
      [],
      'no window update of its own for an accepted stream',
    );
    const [answered, dropped] = streams;
    answered?.write('result');
    dropped?.destroy();
    const data = await peer.expect((f) => f.streamId === 2, 'the first frame of stream 2');
    assert.equal(data.type, FrameType.Data);
    assert.equal(data.flags, Flag.ACK, 'the data frame carries the ACK');
    const reset = await peer.expect((f) => f.streamId === 4, 'the first frame of stream 4');
    assert.equal(reset.type, FrameType.WindowUpdate);
    assert.equal(reset.flags, Flag.ACK | Flag.RST, 'the reset carries the ACK');
    answered?.end();
    const fin = await peer.expect(
      (f) => f.streamId === 2 && (f.flags & Flag.FIN) !== 0,
      'the FIN of stream 2',
    );
    assert.equal(fin.flags, Flag.FIN, 'ACK is sent once');
  } finally {
    dispose();
  }
});
