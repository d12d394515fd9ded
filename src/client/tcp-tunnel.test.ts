import test from 'node:test';
import assert from 'node:assert/strict';
import { parseConnectAnswer } from './tcp-tunnel.js';

test('the answer head is parsed once complete, and bytes behind it are kept for the caller', () => {
  assert.equal(
    parseConnectAnswer(Buffer.from('HTTP/1.1 200 Connection Established\r\n')),
    undefined,
  );
  const answer = parseConnectAnswer(
    Buffer.from('HTTP/1.1 200 Connection Established\r\nVia: x\r\n\r\nSSH-2.0-OpenSSH\r\n'),
  );
  assert.equal(answer?.status, 200);
  assert.equal(answer?.headers.via, 'x');
  assert.equal(answer?.rest.toString(), 'SSH-2.0-OpenSSH\r\n');
});

test('a refusal head exposes status and headers in lower case', () => {
  const answer = parseConnectAnswer(
    Buffer.from(
      'HTTP/1.1 407 Proxy Authentication Required\r\nX-Postern-Error: POSTERN_ERR_TOKEN_EXPIRED\r\nContent-Length: 3\r\n\r\nab',
    ),
  );
  assert.equal(answer?.status, 407);
  assert.equal(answer?.headers['x-postern-error'], 'POSTERN_ERR_TOKEN_EXPIRED');
  assert.equal(answer?.headers['content-length'], '3');
  assert.equal(answer?.rest.toString(), 'ab');
});

test('an answer that is not HTTP is refused', () => {
  assert.throws(() => parseConnectAnswer(Buffer.from('SSH-2.0-x\r\n\r\n')), /not an HTTP answer/);
});
