import { test } from 'node:test';
import assert from 'node:assert/strict';
import { directSocketReads } from '../traffic/index.js';
import type { MuxStream, TransportReads } from '../tunnel/index.js';
import { MuxSession } from '../tunnel/index.js';
import {
  patternBytes,
  quiet,
  readAll,
  sha256,
  tlsPair,
  within,
  writeAll,
} from '../tunnel/test-kit.js';

// The edge and the connector give their tunnel sessions directSocketReads: the TLS socket's
// reads reach the frame decoder without a buffer and a 'data' event each.
test('a tunnel session over TLS that reads its socket directly carries 64 streams intact', async () => {
  const [a, b] = await tlsPair();
  const started: boolean[] = [];
  const directReads: TransportReads = {
    start: (transport, onData) => {
      const ok = directSocketReads.start(transport, onData);
      started.push(ok);
      return ok;
    },
    stop: directSocketReads.stop,
  };
  const client = new MuxSession(a, { role: 'client', keepAliveIntervalMs: 0, directReads });
  const server = new MuxSession(b, { role: 'server', keepAliveIntervalMs: 0, directReads });
  let dataEvents = 0;
  for (const socket of [a, b]) socket.on('data', () => (dataEvents += 1));
  try {
    assert.deepEqual(started, [true, true], 'both ends read directly on this Node version');
    const echo = (s: MuxStream): void => void quiet(s).pipe(s);
    client.on('stream', echo);
    server.on('stream', echo);
    const jobs = [];
    for (let i = 0; i < 64; i += 1) {
      const stream = quiet((i % 2 === 0 ? client : server).openStream());
      const data = patternBytes(256 * 1024, 7 + i);
      jobs.push(
        Promise.all([readAll(stream), writeAll(stream, data, 50_000)]).then(([back]) =>
          assert.equal(sha256(back), sha256(data), `stream ${stream.id}`),
        ),
      );
    }
    await within(Promise.all(jobs), 30_000, '16 MiB echoed');
    assert.equal(dataEvents, 0, 'no read of a flowing socket went through a data event');
  } finally {
    client.destroy();
    server.destroy();
    a.destroy();
    b.destroy();
  }
});
