import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { holdWritesUntilTurnEnd } from './turn-writes.js';

/** A writable that records each write it performs (one entry per _write or _writev). */
function recorder() {
  const writes: string[][] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      writes.push([chunk.toString()]);
      cb();
    },
    writev(chunks, cb) {
      writes.push(chunks.map((c) => (c.chunk as Buffer).toString()));
      cb();
    },
  });
  return { stream, writes };
}

test('writes held in a turn leave together, in order, at its end', async () => {
  const a = recorder();
  const b = recorder();
  holdWritesUntilTurnEnd(a.stream);
  a.stream.write('one');
  holdWritesUntilTurnEnd(b.stream);
  b.stream.write('x');
  holdWritesUntilTurnEnd(a.stream); // again in the same turn: no second hold
  a.stream.write('two');
  a.stream.write('three');
  assert.deepEqual(a.writes, [], 'nothing written during the turn');
  assert.deepEqual(b.writes, []);
  await nextTurn();
  assert.deepEqual(a.writes, [['one', 'two', 'three']], 'one write for the turn');
  assert.deepEqual(b.writes, [['x']]);
  assert.equal(a.stream.writableCorked, 0, 'released completely');
  a.stream.write('later');
  assert.deepEqual(a.writes.at(-1), ['later'], 'not held in a later turn unless asked');
});

test('a hold nests with the stream owner’s own cork, and end() releases at once', async () => {
  const a = recorder();
  holdWritesUntilTurnEnd(a.stream);
  a.stream.cork();
  a.stream.write('head');
  a.stream.uncork();
  assert.deepEqual(a.writes, [], 'the turn hold still applies');
  const b = recorder();
  holdWritesUntilTurnEnd(b.stream);
  b.stream.end('bye');
  await once(b.stream, 'finish');
  assert.deepEqual(b.writes, [['bye']]);
  await nextTurn();
  assert.deepEqual(a.writes, [['head']]);
});

test('a socket held in a turn sends the turn’s writes as one burst, and a destroyed one is skipped', async () => {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const accepted = once(server, 'connection');
  const client = net.connect(port, '127.0.0.1');
  await once(client, 'connect');
  const [peer] = (await accepted) as [net.Socket];
  const reads: string[] = [];
  peer.on('data', (d: Buffer) => reads.push(d.toString()));
  try {
    holdWritesUntilTurnEnd(client);
    for (let i = 0; i < 5; i++) client.write(`r${i};`);
    assert.equal(client.writableLength, 15, 'all five wait in the socket');
    const gone = new net.Socket();
    holdWritesUntilTurnEnd(gone);
    gone.destroy();
    await nextTurn();
    while (reads.join('').length < 15) await once(peer, 'data');
    assert.equal(reads.join(''), 'r0;r1;r2;r3;r4;');
    assert.equal(reads.length, 1, 'one read: the five writes left as one');
  } finally {
    client.destroy();
    peer.destroy();
    server.close();
  }
});
