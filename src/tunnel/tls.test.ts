import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MuxStream } from './stream.js';
import { patternBytes, quiet, readAll, sessionPair, sha256, within, writeAll } from './test-kit.js';

test('over TLS, 32 streams each way echo 1 MiB apiece intact', async () => {
  const { client, server, dispose } = await sessionPair({ transport: 'tls' });
  try {
    const echo = (s: MuxStream): void => {
      quiet(s).pipe(s);
    };
    client.on('stream', echo);
    server.on('stream', echo);
    const jobs = [];
    for (let i = 0; i < 64; i += 1) {
      const stream = quiet((i % 2 === 0 ? client : server).openStream());
      const data = patternBytes(1024 * 1024, 100 + i);
      jobs.push(
        Promise.all([readAll(stream), writeAll(stream, data, 100_000)]).then(([back]) =>
          assert.equal(sha256(back), sha256(data), `stream ${stream.id}`),
        ),
      );
    }
    await within(Promise.all(jobs), 30_000, '64 MiB echoed over TLS');
    await within(
      (async () => {
        while (client.streamCount + server.streamCount > 0)
          await new Promise((r) => setTimeout(r, 5));
      })(),
      5000,
      'streams released after both FINs',
    );
  } finally {
    dispose();
  }
});
