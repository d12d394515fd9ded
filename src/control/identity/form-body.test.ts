import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { readForm, readMessageBody } from './form-body.js';

/**
 * Posts `body` to a server on 127.0.0.1 that reads it with `read`, then answers "read"; resolves
 * with what it read and what the client got back.
 */
async function postTo<T>(
  body: string,
  read: (req: IncomingMessage) => Promise<T>,
): Promise<{ read: T; answer: string }> {
  let result: Promise<T> | undefined;
  const server = createServer((req, res) => {
    result = read(req);
    void result.finally(() => res.end('read'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const answer = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/' }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.once('end', () => resolve(text)).once('error', reject);
      });
      req.once('error', reject);
      req.end(body);
    });
    assert.ok(result, 'the server got the request');
    return { read: await result, answer };
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

test('readMessageBody reads a body up to the limit; beyond it gives undefined and the answer is still sent', async () => {
  const fitting = await postTo('user_code=BBBBCCCC&csrf=abc', (req) => readMessageBody(req, 30));
  assert.equal(fitting.read?.toString(), 'user_code=BBBBCCCC&csrf=abc');
  const long = await postTo('x'.repeat(100_000), (req) => readMessageBody(req, 2048));
  assert.deepEqual(long, { read: undefined, answer: 'read' });
  assert.equal((await postTo('', (req) => readMessageBody(req, 10))).read?.length, 0);
});

test('readForm parses a url-encoded body and refuses other types (415) and long bodies (413)', async () => {
  const body = Buffer.from('user_code=BBBB-CCCC&csrf=a%2Bb');
  const req = (type: string | undefined, limitFits = true) => ({
    headers: type === undefined ? {} : { 'content-type': type },
    readBody: (limit: number) =>
      Promise.resolve(limitFits && body.length <= limit ? body : undefined),
  });
  const form = await readForm(req('application/x-www-form-urlencoded'), 2048);
  assert.ok(form instanceof URLSearchParams);
  assert.deepEqual(Object.fromEntries(form), { user_code: 'BBBB-CCCC', csrf: 'a+b' });
  const upper = await readForm(req('Application/X-WWW-Form-Urlencoded; charset=utf-8'), 2048);
  assert.ok(upper instanceof URLSearchParams, 'media types are case-insensitive');
  for (const type of [undefined, 'text/plain', 'multipart/form-data; boundary=x']) {
    const refused = await readForm(req(type), 2048);
    assert.ok(!(refused instanceof URLSearchParams) && refused.status === 415, String(type));
  }
  const long = await readForm(req('application/x-www-form-urlencoded'), 10);
  assert.ok(!(long instanceof URLSearchParams) && long.status === 413);
  const none = await readForm(
    { headers: { 'content-type': 'application/x-www-form-urlencoded' } },
    10,
  );
  assert.ok(none instanceof URLSearchParams && [...none].length === 0, 'no body, no fields');
});
