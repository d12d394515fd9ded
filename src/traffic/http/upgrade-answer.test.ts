import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { tunnelProtocols, upgradeAnswerOf } from './upgrade-answer.js';

const of = (text: string, asked = 'websocket'): ReturnType<typeof upgradeAnswerOf> =>
  upgradeAnswerOf(Buffer.from(text, 'latin1'), asked, 1024);

describe('reading the answer to an Upgrade request', () => {
  test('a 101 naming an asked protocol switches after its head; more is needed until then', () => {
    const head =
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket/13\r\nConnection: Upgrade\r\n\r\n';
    assert.equal(of('HTTP/1.1 101 Swi'), undefined);
    assert.equal(of(head.slice(0, -2)), undefined);
    assert.deepEqual(of(`${head}frames`), { switched: true, headEnd: head.length });
  });

  test('any other status is a plain response, whatever follows its status line', () => {
    for (const text of [
      'HTTP/1.1 200 OK\r\n',
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching Protocols\r\n',
      'HTTP/1.1 1010\r\n',
      'garbage\r\n',
    ])
      assert.deepEqual(of(text), { switched: false }, text);
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
    ];
    for (const [text, reason] of bad) assert.throws(() => of(text), reason, text);
    assert.throws(() => of('x'.repeat(1100)), /over 1024 bytes/);
  });

  test('h2c never becomes a tunnel; other protocols keep their order and versions', () => {
    assert.equal(tunnelProtocols('h2c'), undefined);
    assert.equal(tunnelProtocols(' H2C , '), undefined);
    assert.equal(tunnelProtocols('h2c, websocket'), 'websocket');
    assert.equal(tunnelProtocols('foo/2, h2c/1, bar'), 'foo/2, bar');
  });
});
