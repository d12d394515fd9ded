import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ResponseParser, type ResponseHead } from './response-parser.js';
import { switchRefusal, tunnelProtocols } from './upgrade-answer.js';

interface Read {
  switched: { head: ResponseHead; rest: string } | undefined;
  heads: ResponseHead[];
  body: string;
}

/** Feeds `pieces` of a node's answer to an Upgrade request (asking for `asked`) to a parser. */
function read(pieces: string[], asked = 'websocket'): Read {
  const out: Read = { switched: undefined, heads: [], body: '' };
  const parser = new ResponseParser(
    {
      onHead: (h) => out.heads.push(h),
      onBody: (c) => (out.body += c.toString('latin1')),
      onEnd: () => undefined,
      onSwitch: (head, rest) => (out.switched = { head, rest: rest.toString('latin1') }),
    },
    { maxHeadBytes: 1024, maxHeaders: 8 },
  );
  parser.expect(false, asked);
  for (const p of pieces) parser.execute(Buffer.from(p, 'latin1'));
  return out;
}

const SWITCH =
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket/13\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: abc=\r\n\r\n';

describe('reading the answer to an Upgrade request', () => {
  test('a 101 naming an asked protocol switches after its head; more is needed until then', () => {
    assert.equal(read([SWITCH.slice(0, -2)]).switched, undefined);
    for (let cut = 1; cut < SWITCH.length; cut += 7) {
      const r = read([SWITCH.slice(0, cut), `${SWITCH.slice(cut)}frames`]);
      assert.equal(r.switched?.head.status, 101, `cut at ${cut}`);
      assert.equal(r.switched?.rest, 'frames');
      assert.deepEqual(r.switched?.head.rawHeaders, [
        'Upgrade',
        'WebSocket/13',
        'Connection',
        'Upgrade',
        'Sec-WebSocket-Accept',
        'abc=',
      ]);
    }
  });

  test('interim responses before the 101 are skipped', () => {
    const r = read([`HTTP/1.1 100 Continue\r\n\r\n${SWITCH}x`]);
    assert.equal(r.switched?.head.status, 101);
    assert.equal(r.switched?.rest, 'x');
  });

  test('any other status is a plain response with its body', () => {
    const r = read(['HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nnope']);
    assert.equal(r.switched, undefined);
    assert.equal(r.heads[0]?.status, 403);
    assert.equal(r.body, 'nope');
  });

  test('a 101 without Upgrade, to another protocol, or with a bad head throws', () => {
    const bad: [string, RegExp][] = [
      ['HTTP/1.1 101 Switching Protocols\r\n\r\n', /without an Upgrade/],
      ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: \r\n\r\n', /without an Upgrade/],
      ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n', /"h2c", which the client/],
      ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket, h2c\r\n\r\n', /did not ask/],
      ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\n\r\n', /bare LF/],
      ['HTTP/1.1 101 Switching Protocols\r\nBad Name: x\r\n\r\n', /bad header line/],
      [`HTTP/1.1 101 Switching Protocols\r\nX: ${'a'.repeat(2000)}`, /over 1024 bytes/],
      ['HTTP/1.1 1010\r\n\r\n', /bad status line/],
      [`${SWITCH.slice(0, -2)}${'X: 1\r\n'.repeat(6)}\r\n`, /more than 8 header fields/],
    ];
    for (const [text, reason] of bad) assert.throws(() => read([text]), reason, text);
    assert.throws(() => read(['x'.repeat(1100)]), /over 1024 bytes/);
  });

  test('a 101 to a request that was no Upgrade is refused, as before', () => {
    const parser = new ResponseParser({
      onHead: () => undefined,
      onBody: () => undefined,
      onEnd: () => undefined,
      onSwitch: () => assert.fail('switched without an Upgrade request'),
    });
    parser.expect(false);
    assert.throws(() => parser.execute(Buffer.from(SWITCH)), /unexpected 101/);
  });

  test('a 101 switches only to protocols the client listed, names compared without versions', () => {
    assert.equal(switchRefusal('websocket', 'foo, WebSocket/13'), undefined);
    assert.equal(switchRefusal('Foo/2, websocket', 'foo, websocket'), undefined);
    assert.match(switchRefusal(undefined, 'websocket') ?? '', /without an Upgrade/);
    assert.match(switchRefusal('bar', 'foo') ?? '', /to "bar", which the client did not ask for/);
  });

  test('h2c never becomes a tunnel; other protocols keep their order and versions', () => {
    assert.equal(tunnelProtocols('h2c'), undefined);
    assert.equal(tunnelProtocols(' H2C , '), undefined);
    assert.equal(tunnelProtocols('h2c, websocket'), 'websocket');
    assert.equal(tunnelProtocols('foo/2, h2c/1, bar'), 'foo/2, bar');
  });
});
