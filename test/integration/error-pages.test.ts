// Error answers end to end: configuration documents, a real edge, real clients (HTTP/1.1 and
// HTTP/2). What a client reads must name no node, pool or group, and carry the request id that
// the edge's log lines for the same failure carry.
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { eventually, freePort, startTestEdge, tempDir, type TestEdge } from '../harness/harness.js';
import { createSelfSignedCert, type SelfSignedCert } from '../support/tls-cert.js';

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
}

function collect(res: http.IncomingMessage, resolve: (a: Answer) => void): void {
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (c: string) => (text += c));
  res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
}

function get(port: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) =>
      collect(res, resolve),
    );
    req.on('error', reject);
  });
}

function getTls(port: number, ca: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      { host: '127.0.0.1', port, path: '/', ca, servername: 'localhost', agent: false },
      (res) => collect(res, resolve),
    );
    req.on('error', reject);
  });
}

function getH2(port: number, ca: string): Promise<Answer & { readonly alpn: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://localhost:${port}`, {
      ca,
      host: '127.0.0.1',
      servername: 'localhost',
    });
    session.on('error', reject);
    const req = session.request({ ':path': '/' });
    let text = '';
    let headers: http2.IncomingHttpHeaders = {};
    req.setEncoding('utf8');
    req.on('response', (h) => (headers = h));
    req.on('data', (c: string) => (text += c));
    req.on('error', reject);
    req.on('end', () => {
      const alpn = String(session.alpnProtocol);
      session.close();
      resolve({ status: Number(headers[':status']), headers, text, alpn });
    });
    req.end();
  });
}

/** JSON log lines of the edge, parsed. */
function logRecords(lines: readonly string[]): Record<string, unknown>[] {
  return lines
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const PAGE = '<!doctype html><h1>We will be back</h1><p>Reference {request_id}</p>\n';

describe('error answers of http and https virtual servers in a real edge', () => {
  let edge: TestEdge;
  let cert: SelfSignedCert;
  let dead: string;
  const ports = { plain: 0, verbose: 0, site: 0 };
  const lines: string[] = [];

  before(async () => {
    cert = await createSelfSignedCert();
    dead = `127.0.0.1:${await freePort()}`;
    ports.plain = await freePort();
    ports.verbose = await freePort();
    ports.site = await freePort();
    const dir = await tempDir('errpages-');
    await mkdir(join(dir, 'pages'));
    await writeFile(join(dir, 'pages', '503.html'), PAGE);
    await writeFile(join(dir, 'tls.crt'), cert.cert);
    await writeFile(join(dir, 'tls.key'), cert.key);
    await writeFile(
      join(dir, 'site.yaml'),
      [
        'version: 1',
        'connector_groups: [{ name: errpages-hidden-group }]',
        'certificates:',
        '  - name: site',
        '    cert: { valueFrom: { fileRef: { name: tls.crt } } }',
        '    key: { valueFrom: { fileRef: { name: tls.key } } }',
        'pools:',
        `  - { name: errpages-dead-pool, nodes: [{ address: "${dead}" }] }`,
        '  - name: stranded',
        '    via: errpages-hidden-group',
        '    nodes: [{ address: "10.9.8.7:8080" }]',
        'virtual_servers:',
        '  - name: plain',
        '    protocol: http',
        `    listen: 127.0.0.1:${ports.plain}`,
        '    pool: errpages-dead-pool',
        '    retries: 0',
        '  - name: verbose',
        '    protocol: http',
        `    listen: 127.0.0.1:${ports.verbose}`,
        '    pool: errpages-dead-pool',
        '    retries: 0',
        '    error_detail: full',
        '  - name: site',
        '    protocol: https',
        `    listen: 127.0.0.1:${ports.site}`,
        '    pool: stranded',
        '    tls: { certificates: [site] }',
        '    error_pages:',
        '      "503": { body: { valueFrom: { fileRef: { name: pages/503.html } } } }',
        '',
      ].join('\n'),
    );
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    edge = await startTestEdge({ configDir: dir, logger: pino({ level: 'info' }, sink) });
  });
  after(() => edge.stop());

  test('a 502 from a dead node names no node or pool by default; its request id is in the access log and the warn line with the full message', async () => {
    const res = await get(ports.plain);
    assert.equal(res.status, 502);
    assert.equal(res.headers['x-postern-error'], 'POSTERN_ERR_DIAL_REFUSED');
    assert.doesNotMatch(res.text, new RegExp(`${dead}|errpages-dead-pool|127\\.0\\.0\\.1`));
    const id = /^Request id: ([0-9a-f-]{36})$/m.exec(res.text)?.[1];
    assert.ok(id, res.text);
    assert.match(res.text, /If this persists, give the request id to the operator\./);
    const logged = await waitForLog(lines, (r) => requestOf(r)?.['requestId'] === id);
    assert.equal(requestOf(logged)?.['status'], 502);
    assert.equal(requestOf(logged)?.['virtualServer'], 'plain');
    const warning = logRecords(lines).find((r) => r['requestId'] === id);
    assert.equal(warning?.['msg'], 'request answered with an error');
    assert.equal(warning?.['level'], 40);
    assert.match(String(warning?.['err']), new RegExp(`${dead} refused the connection`));
  });

  test('error_detail full answers the message that names the node', async () => {
    const res = await get(ports.verbose);
    assert.equal(res.status, 502);
    assert.match(res.text, new RegExp(`^POSTERN_ERR_DIAL_REFUSED: ${dead} refused the connection`));
  });

  test('a via pool without a connector gets the custom 503 page over HTTP/1.1 and HTTP/2', async () => {
    const h1 = await getTls(ports.site, cert.cert);
    const h2 = await getH2(ports.site, cert.cert);
    assert.equal(h2.alpn, 'h2');
    for (const res of [h1, h2]) {
      assert.equal(res.status, 503);
      assert.equal(res.headers['x-postern-error'], 'POSTERN_ERR_NO_CONNECTOR');
      assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(res.headers['content-length'], String(Buffer.byteLength(res.text)));
      const id = /Reference ([0-9a-f-]{36})</.exec(res.text)?.[1];
      assert.equal(res.text, PAGE.replace('{request_id}', id ?? 'no id'));
      assert.doesNotMatch(res.text, /errpages-hidden-group|10\.9\.8\.7/);
      const logged = await waitForLog(lines, (r) => requestOf(r)?.['requestId'] === id);
      assert.equal(requestOf(logged)?.['status'], 503);
    }
    assert.equal(requestOfId(lines, h2.text)?.['protocol'], 'h2');
  });
});

test('an error_pages key the edge never answers stops the import with file and line', async () => {
  const configDir = await tempDir('errpages-bad-');
  await writeFile(
    join(configDir, 'pages.yaml'),
    [
      'version: 1',
      'pools: [{ name: web, nodes: [{ address: "127.0.0.1:9" }] }]',
      'virtual_servers:',
      '  - name: web',
      '    protocol: http',
      `    listen: 127.0.0.1:${await freePort()}`,
      '    pool: web',
      '    error_pages:',
      '      "404": { body: gone }',
      '',
    ].join('\n'),
  );
  await assert.rejects(startTestEdge({ configDir }), (err: { code: string; message: string }) => {
    assert.equal(err.code, 'POSTERN_ERR_CONFIG_INVALID');
    assert.match(err.message, /pages\.yaml:9/);
    assert.match(err.message, /error_pages\["404"\]/);
    assert.match(err.message, /is not a status Postern answers with its own error page/);
    return true;
  });
});

function requestOf(
  record: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  return record?.['request'] as Record<string, unknown> | undefined;
}

function requestOfId(lines: readonly string[], page: string): Record<string, unknown> | undefined {
  const id = /Reference ([0-9a-f-]{36})</.exec(page)?.[1];
  return requestOf(logRecords(lines).find((r) => requestOf(r)?.['requestId'] === id));
}

/** The first log record that satisfies `match`, waiting up to 5 s for it to be written. */
async function waitForLog(
  lines: readonly string[],
  match: (r: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  const found = await eventually(() => logRecords(lines).find(match), 'the log record');
  return found as Record<string, unknown>;
}
