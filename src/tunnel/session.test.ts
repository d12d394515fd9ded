import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { isPosternError } from '../core/index.js';
import type { MuxStream } from './stream.js';
import {
  nextEvent,
  patternBytes,
  quiet,
  readAll,
  sessionPair,
  sha256,
  within,
  writeAll,
} from './test-kit.js';

/** Echoes every accepted stream back to its opener. */
function echo(stream: MuxStream): void {
  stream.on('error', () => {});
  stream.pipe(stream);
}

test('streams opened on both sides carry data intact, concurrently', async () => {
  const { client, server, dispose } = await sessionPair();
  try {
    client.on('stream', echo);
    server.on('stream', echo);
    const jobs = [];
    for (let i = 0; i < 40; i += 1) {
      const opener = i % 2 === 0 ? client : server;
      const data = patternBytes(50_000 + i * 1000, i + 1);
      const stream = opener.openStream();
      jobs.push(
        Promise.all([readAll(stream), writeAll(stream, data, 7000)]).then(([back]) => {
          assert.equal(sha256(back), sha256(data), `stream ${stream.id} echoed different bytes`);
          return stream.id;
        }),
      );
    }
    const ids = await within(Promise.all(jobs), 20_000, 'echo of 40 streams');
    assert.ok(ids.filter((id) => id % 2 === 1).length === 20, 'client streams have odd ids');
    assert.ok(ids.filter((id) => id % 2 === 0).length === 20, 'server streams have even ids');
  } finally {
    dispose();
  }
});

test('a multi-megabyte transfer arrives complete through accept()', async () => {
  const { client, server, dispose } = await sessionPair();
  try {
    const data = patternBytes(24 * 1024 * 1024, 7);
    const stream = quiet(client.openStream());
    const sending = writeAll(stream, data, 200_000);
    const accepted = quiet(await within(server.accept(), 5000, 'accept'));
    const received = await within(readAll(accepted), 20_000, 'read 24 MiB');
    await sending;
    accepted.end();
    assert.equal(received.length, data.length);
    assert.equal(sha256(received), sha256(data));
  } finally {
    dispose();
  }
});

test('half-close: the opener ends its side and still reads the reply', async () => {
  const { client, server, dispose } = await sessionPair();
  try {
    server.on('stream', (s: MuxStream) => {
      void readAll(s).then((request) => {
        // The request side is finished; the reply goes the other way afterwards.
        s.end(Buffer.concat([Buffer.from('got '), request]));
      });
    });
    const stream = client.openStream();
    const closed = nextEvent(stream, 'close');
    stream.end('hello');
    const reply = await within(readAll(stream), 5000, 'reply after half-close');
    assert.equal(reply.toString(), 'got hello');
    await within(closed, 5000, 'stream close');
    assert.equal(client.streamCount, 0, 'both FINs remove the stream');
  } finally {
    dispose();
  }
});

test('half-close: the acceptor ends first while the opener keeps sending', async () => {
  const { client, server, dispose } = await sessionPair();
  try {
    const serverSaw = new Promise<Buffer>((resolve) => {
      server.on('stream', (s: MuxStream) => {
        s.end('bye');
        resolve(readAll(s));
      });
    });
    const stream = client.openStream();
    stream.write('first');
    const reply = await within(readAll(stream), 5000, 'server FIN');
    assert.equal(reply.toString(), 'bye');
    stream.end('second');
    assert.equal((await within(serverSaw, 5000, 'data after peer FIN')).toString(), 'firstsecond');
  } finally {
    dispose();
  }
});

test('reset on one side surfaces as a coded error on the other', async () => {
  const { client, server, dispose } = await sessionPair();
  try {
    const stream = client.openStream();
    stream.write('x');
    const accepted = await within(server.accept(), 5000, 'accept');
    const failed = once(accepted, 'error');
    const closed = nextEvent(accepted, 'close');
    accepted.resume();
    stream.reset();
    const [err] = (await within(failed, 5000, 'RST at peer')) as [Error];
    assert.ok(isPosternError(err, 'POSTERN_ERR_TUNNEL_STREAM_RESET'), String(err));
    await within(closed, 5000, 'stream close');
    assert.equal(server.streamCount, 0);
  } finally {
    dispose();
  }
});

test('streams beyond the accept backlog are refused with a coded error', async () => {
  const { client, server, dispose } = await sessionPair({ server: { acceptBacklog: 2 } });
  try {
    const streams = [client.openStream(), client.openStream(), client.openStream()].map(quiet);
    const [err] = (await within(once(streams[2] as MuxStream, 'error'), 5000, 'refusal')) as [
      Error,
    ];
    assert.ok(isPosternError(err, 'POSTERN_ERR_TUNNEL_STREAM_REFUSED'), String(err));
    const first = quiet(await server.accept());
    const second = quiet(await server.accept());
    assert.deepEqual([first.id, second.id], [1, 3]);
  } finally {
    dispose();
  }
});

test('the stream cap refuses extra peer streams and local opens', async () => {
  const { client, server, dispose } = await sessionPair({
    server: { maxStreams: 2 },
    client: { maxStreams: 3 },
  });
  try {
    server.on('stream', quiet);
    const opened = [client.openStream(), client.openStream(), client.openStream()].map(quiet);
    const [err] = (await within(once(opened[2] as MuxStream, 'error'), 5000, 'refusal')) as [Error];
    assert.ok(isPosternError(err, 'POSTERN_ERR_TUNNEL_STREAM_REFUSED'), String(err));
    assert.equal(server.streamCount, 2);
    assert.equal(client.streamCount, 2, 'the refused stream is gone');
    quiet(client.openStream());
    assert.throws(() => client.openStream(), { code: 'POSTERN_ERR_TUNNEL_TOO_MANY_STREAMS' });
  } finally {
    dispose();
  }
});

test('go-away stops new streams both ways while an existing stream completes', async () => {
  const { client, server, dispose } = await sessionPair();
  try {
    const stream = quiet(client.openStream());
    stream.write('before');
    const accepted = quiet(await server.accept());
    const goaway = once(client, 'goaway');
    server.goAway();
    assert.deepEqual(await within(goaway, 5000, 'goaway event'), [0]);
    assert.ok(client.remoteGoingAway);
    assert.throws(() => client.openStream(), { code: 'POSTERN_ERR_TUNNEL_REMOTE_GOING_AWAY' });
    assert.throws(() => server.openStream(), { code: 'POSTERN_ERR_TUNNEL_GOING_AWAY' });
    const data = patternBytes(3 * 1024 * 1024, 3);
    const sent = writeAll(stream, data);
    const received = await within(readAll(accepted), 10_000, 'existing stream after go-away');
    await sent;
    assert.equal(sha256(received), sha256(Buffer.concat([Buffer.from('before'), data])));
  } finally {
    dispose();
  }
});

test('close waits for open streams, then both sessions end cleanly', async () => {
  const { client, server, dispose } = await sessionPair();
  try {
    const stream = client.openStream();
    const accepted = await server.accept();
    const closing = client.close();
    let closed = false;
    void closing.then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(closed, false, 'close waits while a stream is open');
    stream.end('done');
    accepted.end();
    assert.equal((await readAll(accepted)).toString(), 'done');
    stream.resume();
    const serverClosed = nextEvent(server, 'close');
    await within(closing, 5000, 'client close');
    const err = await within(serverClosed, 5000, 'server sees the transport end');
    assert.equal(err, undefined);
    assert.ok(client.closed && server.closed);
    assert.throws(() => client.openStream(), { code: 'POSTERN_ERR_TUNNEL_SESSION_CLOSED' });
    await assert.rejects(client.accept(), { code: 'POSTERN_ERR_TUNNEL_SESSION_CLOSED' });
  } finally {
    dispose();
  }
});

test('destroy errors every stream with a coded error and rejects pending accepts', async () => {
  const { client, server, dispose } = await sessionPair();
  try {
    const stream = client.openStream();
    const pendingAccept = client.accept();
    const failed = once(stream, 'error');
    client.destroy();
    const [err] = (await failed) as [Error];
    assert.ok(isPosternError(err, 'POSTERN_ERR_TUNNEL_SESSION_CLOSED'), String(err));
    await assert.rejects(pendingAccept, { code: 'POSTERN_ERR_TUNNEL_SESSION_CLOSED' });
    const serverErr = await within(nextEvent(server, 'close'), 5000, 'server close');
    assert.ok(isPosternError(serverErr, 'POSTERN_ERR_TUNNEL_TRANSPORT'), String(serverErr));
  } finally {
    dispose();
  }
});

test('accept honours an abort signal', async () => {
  const { client, dispose } = await sessionPair();
  try {
    const controller = new AbortController();
    const pending = client.accept({ signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, { code: 'POSTERN_ERR_ABORTED' });
  } finally {
    dispose();
  }
});

test('ping measures a round-trip time', async () => {
  const { client, dispose } = await sessionPair();
  try {
    const rtt = await within(client.ping(), 5000, 'ping');
    assert.ok(rtt >= 0 && rtt < 5000, `rtt ${rtt}`);
    assert.equal(client.rttMs, rtt);
  } finally {
    dispose();
  }
});
