import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { connectTcp } from './direct-dial.js';
import { takeViews, type ViewReader } from './io-shortcuts.js';
import { joinStreams } from './join-streams.js';

// Connections dialed with a view reader (Node's onread) read small messages into one shared
// buffer and bulk into buffers of their own; whatever the mix, no byte may be lost, reordered
// or overwritten, including reads that come before a consumer is set.

async function server(onSocket: (socket: net.Socket) => void): Promise<net.Server> {
  const srv = net.createServer(onSocket);
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return srv;
}

const portOf = (srv: net.Server): number => (srv.address() as net.AddressInfo).port;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test('a server that speaks first is read in full although no consumer is set yet', async () => {
  const srv = await server((s) => s.end('220 greeting before anyone listens\r\n'));
  try {
    const reader: ViewReader = { onView: undefined };
    const outcome = await connectTcp('127.0.0.1', portOf(srv), 2000, reader);
    assert.ok(outcome.code === 'ok');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const got: Buffer[] = [];
    const owned: boolean[] = [];
    takeViews(reader, (view, isOwned) => {
      got.push(Buffer.from(view));
      owned.push(isOwned);
    });
    assert.equal(Buffer.concat(got).toString(), '220 greeting before anyone listens\r\n');
    assert.ok(
      owned.every((o) => o),
      'held reads are copies the consumer may keep',
    );
    outcome.socket.destroy();
  } finally {
    srv.close();
  }
});

test('small reads share one buffer (not owned), bulk reads are owned, and a joined stream gets every byte in order', async () => {
  const small = Array.from({ length: 50 }, (_, i) => Buffer.from(`message ${i}\n`));
  const bulk = Buffer.alloc(3 * 1024 * 1024, 7);
  for (let i = 0; i < bulk.length; i += 4096) bulk.writeUInt32BE(i, i);
  const srv = await server((s) => {
    void (async () => {
      for (const m of small) {
        s.write(m);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      s.end(bulk);
    })();
  });
  try {
    const reader: ViewReader = { onView: undefined };
    const outcome = await connectTcp('127.0.0.1', portOf(srv), 2000, reader);
    assert.ok(outcome.code === 'ok');
    const seen = { shared: 0, owned: 0 };
    const tap: ViewReader = { onView: undefined };
    // Watch ownership on the way, then hand the views to the join as its reader would.
    takeViews(reader, (view, owned) => {
      seen[owned ? 'owned' : 'shared']++;
      tap.onView?.(view, owned);
    });
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on('data', (c: Buffer) => chunks.push(c));
    const ended = once(sink, 'end');
    joinStreams(sink, outcome.socket, () => undefined, { bViews: tap });
    await ended;
    const expected = Buffer.concat([...small, bulk]);
    const got = Buffer.concat(chunks);
    assert.equal(got.length, expected.length);
    assert.equal(sha(got), sha(expected));
    assert.ok(seen.shared > 0, 'small messages were read into the shared buffer');
    assert.ok(seen.owned > 0, 'bulk reads went into buffers of their own');
    outcome.socket.destroy();
  } finally {
    srv.close();
  }
});
