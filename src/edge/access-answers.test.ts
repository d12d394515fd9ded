import test from 'node:test';
import assert from 'node:assert/strict';
import { PosternError } from '../core/index.js';
import { dialFailureStatus, refusalResponse } from './access-answers.js';

test('a 407 answer asks for a bearer token and says how to log in to this edge', () => {
  const text = refusalResponse(
    407,
    new PosternError(
      'POSTERN_ERR_TOKEN_EXPIRED',
      'expired. Log in again with `postern login --edge <url>`.',
    ),
    { edgeUrl: 'https://edge.example:8444' },
  );
  const [head, body] = text.split('\r\n\r\n');
  assert.match(head!, /^HTTP\/1\.1 407 Proxy Authentication Required\r\n/);
  assert.match(head!, /\r\nProxy-Authenticate: Bearer realm="postern", error="invalid_token"/);
  assert.match(head!, /\r\nX-Postern-Error: POSTERN_ERR_TOKEN_EXPIRED/);
  assert.match(body!, /postern login --edge https:\/\/edge\.example:8444/);
  assert.doesNotMatch(body!, /<url>/);
  assert.match(head!, new RegExp(`Content-Length: ${Buffer.byteLength(body!)}\\r\\n`));
});

test('other refusals carry their status, code and message, and no Proxy-Authenticate', () => {
  const text = refusalResponse(
    403,
    new PosternError('POSTERN_ERR_ACCESS_DENIED', 'Access was denied: rule "x".'),
  );
  assert.match(text, /^HTTP\/1\.1 403 Forbidden\r\n/);
  assert.doesNotMatch(text, /Proxy-Authenticate/);
  assert.match(text, /\r\n\r\nAccess was denied: rule "x"\. \(POSTERN_ERR_ACCESS_DENIED\)\n$/);
});

test('failed dials map to 503 without a connector, 504 on timeout, 502 otherwise', () => {
  const e = (code: string) => new PosternError(code, 'x');
  assert.equal(dialFailureStatus(e('POSTERN_ERR_NO_CONNECTOR')), 503);
  assert.equal(dialFailureStatus(e('POSTERN_ERR_DIAL_TIMEOUT')), 504);
  assert.equal(dialFailureStatus(e('POSTERN_ERR_DIAL_REFUSED')), 502);
  assert.equal(dialFailureStatus(e('POSTERN_ERR_DIAL_DNS')), 502);
  assert.equal(dialFailureStatus(new Error('boom')), 502);
});
