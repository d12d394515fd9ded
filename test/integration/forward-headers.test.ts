// The edge's forwarding fields end to end: a configuration document, a real edge, and a raw
// node that records every request head it receives byte for byte.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { freePort, startTestEdge, tempDir } from '../harness/harness.js';
import { exchange, rawNode, values } from '../harness/raw-http.js';

const LYING =
  'X-Forwarded-For: 1.2.3.4\r\nForwarded: for=9.9.9.9;proto=https\r\nX-Real-IP: 6.6.6.6\r\n' +
  'X-Postern-User: ceo@corp\r\nCookie: __Host-postern-session=SESSIONSECRET; other=1\r\n';

test('x_forwarded_for from a document: replace at the edge by default, append behind a proxy; logs redact secrets', async () => {
  const node = await rawNode();
  const [edgePort, behindPort] = [await freePort(), await freePort()];
  const dir = await tempDir('secfixc-fwd-');
  await writeFile(
    join(dir, 'web.yaml'),
    [
      'version: 1',
      'pools:',
      '  - name: web',
      '    nodes:',
      `      - address: ${node.address}`,
      'virtual_servers:',
      '  - name: at-the-edge',
      '    protocol: http',
      `    listen: 127.0.0.1:${edgePort}`,
      '    pool: web',
      '  - name: behind-lb',
      '    protocol: http',
      `    listen: 127.0.0.1:${behindPort}`,
      '    pool: web',
      '    x_forwarded_for: append',
      '',
    ].join('\n'),
  );
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const edge = await startTestEdge({ configDir: dir, logger: pino({ level: 'info' }, sink) });
  try {
    const ask = async (port: number, target: string): Promise<string> => {
      const before = node.heads.length;
      const answer = await exchange(
        port,
        `GET ${target} HTTP/1.1\r\nHost: app.test\r\n${LYING}Connection: close\r\n\r\n`,
      );
      assert.match(answer, /^HTTP\/1\.1 200 /, answer);
      return node.heads[before] ?? '';
    };
    const direct = await ask(edgePort, '/cb?code=OAUTHCODE123&page=2');
    assert.deepEqual(values(direct, 'x-forwarded-for'), ['127.0.0.1']);
    assert.deepEqual(values(direct, 'forwarded'), []);
    assert.deepEqual(values(direct, 'x-real-ip'), []);
    assert.deepEqual(values(direct, 'x-postern-user'), []);
    assert.deepEqual(values(direct, 'cookie'), ['other=1']);
    assert.match(direct, /^GET \/cb\?code=OAUTHCODE123&page=2 /, 'the node gets the real target');

    const behind = await ask(behindPort, '/');
    assert.deepEqual(values(behind, 'x-forwarded-for'), ['1.2.3.4, 127.0.0.1']);
    assert.deepEqual(values(behind, 'forwarded'), ['for=9.9.9.9;proto=https']);
    assert.deepEqual(values(behind, 'x-real-ip'), ['6.6.6.6']);
    assert.deepEqual(values(behind, 'x-postern-user'), [], 'the namespace is stripped either way');

    const log = lines.join('');
    assert.doesNotMatch(log, /OAUTHCODE123/, 'the code never reaches the log');
    assert.match(log, /"path":"\/cb\?code=REDACTED&page=2"/);
  } finally {
    await edge.stop();
    await node.close();
  }
});
