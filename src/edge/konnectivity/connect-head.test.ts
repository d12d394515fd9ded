import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseConnectHead } from './connect-head.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

test("kube-apiserver's CONNECT head parses; the destination comes from the request target, not Host", () => {
  const parsed = parseConnectHead(
    bytes('CONNECT 10.0.0.5:10250 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'),
  );
  assert.equal(parsed.state, 'complete');
  assert.ok(parsed.state === 'complete');
  assert.equal(parsed.head.host, '10.0.0.5');
  assert.equal(parsed.head.port, 10250);
  assert.equal(parsed.head.target, '10.0.0.5:10250');
  assert.equal(parsed.head.version, '1.1');
  assert.deepEqual(parsed.head.headers, [['host', '127.0.0.1']]);
});

test('headLength stops exactly at the blank line so tunnel bytes after it are kept', () => {
  const head = 'CONNECT node1:22 HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\n\r\n';
  const parsed = parseConnectHead(bytes(`${head}SSH-2.0-hello`));
  assert.ok(parsed.state === 'complete');
  assert.equal(parsed.headLength, head.length);
  assert.equal(parsed.head.host, 'node1');
});

test('bare LF line endings are tolerated', () => {
  const parsed = parseConnectHead(bytes('CONNECT a.example:443 HTTP/1.0\nHost: a\n\nrest'));
  assert.ok(parsed.state === 'complete');
  assert.equal(parsed.head.version, '1.0');
  assert.equal(parsed.headLength, 'CONNECT a.example:443 HTTP/1.0\nHost: a\n\n'.length);
});

test('IPv6 targets in brackets keep their brackets in target and lose them in host', () => {
  const parsed = parseConnectHead(bytes('CONNECT [fd00::5]:10250 HTTP/1.1\r\n\r\n'));
  assert.ok(parsed.state === 'complete');
  assert.equal(parsed.head.host, 'fd00::5');
  assert.equal(parsed.head.target, '[fd00::5]:10250');
});

test('a head arriving in pieces is incomplete until its blank line', () => {
  const full = bytes('CONNECT h:1 HTTP/1.1\r\nHost: h\r\n\r\n');
  for (let cut = 0; cut < full.length; cut++) {
    assert.equal(parseConnectHead(full.subarray(0, cut)).state, 'incomplete', `cut at ${cut}`);
  }
  assert.equal(parseConnectHead(full).state, 'complete');
});

test('methods other than CONNECT get 405 as soon as the request line is complete', () => {
  const parsed = parseConnectHead(bytes('GET / HTTP/1.1\r\n'));
  assert.deepEqual(
    { state: parsed.state, status: parsed.state === 'error' ? parsed.status : 0 },
    { state: 'error', status: 405 },
  );
  const lower = parseConnectHead(bytes('connect h:1 HTTP/1.1\r\n\r\n'));
  assert.ok(lower.state === 'error' && lower.status === 405);
});

test('malformed requests get 400 with a reason', () => {
  const cases: [string, RegExp][] = [
    ['CONNECT h HTTP/1.1\r\n\r\n', /host:port/],
    ['CONNECT h:0 HTTP/1.1\r\n\r\n', /host:port/],
    ['CONNECT h:65536 HTTP/1.1\r\n\r\n', /host:port/],
    ['CONNECT user@h:80 HTTP/1.1\r\n\r\n', /host:port/],
    ['CONNECT /path HTTP/1.1\r\n\r\n', /host:port/],
    ['CONNECT [zz::1]:80 HTTP/1.1\r\n\r\n', /host:port/],
    ['CONNECT h:80 HTTP/2.0\r\n\r\n', /version/],
    ['CONNECT  h:80 HTTP/1.1\r\n\r\n', /request line/],
    ['CONNECT h:80 HTTP/1.1\r\nBad Header\r\n\r\n', /header/],
    ['CONNECT h:80 HTTP/1.1\r\nX: a\r\n folded\r\n\r\n', /folding/],
    ['CONNECT h:80 HTTP/1.1\r\nX: a\x00b\r\n\r\n', /header/],
    ['CONNECT h:80 HTTP/1.1\r\nContent-Length: 5\r\n\r\n', /content/],
    ['CONNECT h:80 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n', /Transfer-Encoding/],
  ];
  for (const [text, reason] of cases) {
    const parsed = parseConnectHead(bytes(text));
    assert.ok(parsed.state === 'error', `${JSON.stringify(text)} -> ${parsed.state}`);
    assert.equal(parsed.status, 400, JSON.stringify(text));
    assert.match(parsed.reason, reason, JSON.stringify(text));
  }
});

test('Content-Length: 0 is accepted (some clients send it)', () => {
  assert.equal(
    parseConnectHead(bytes('CONNECT h:80 HTTP/1.1\r\nContent-Length: 0\r\n\r\n')).state,
    'complete',
  );
});

test('an oversized head is refused even before its end arrives', () => {
  const line = 'CONNECT h:80 HTTP/1.1\r\n';
  const header = `X-Big: ${'a'.repeat(200)}\r\n`;
  const parsed = parseConnectHead(bytes(line + header.repeat(50)), { maxHeadBytes: 4096 });
  assert.ok(parsed.state === 'error' && parsed.status === 400);
  assert.match(parsed.reason, /larger than 4096/);
  const complete = parseConnectHead(bytes(`${line}${header.repeat(30)}\r\n`), {
    maxHeadBytes: 4096,
  });
  assert.ok(complete.state === 'error' && /larger/.test(complete.reason));
});

test('too many header fields are refused', () => {
  const head = `CONNECT h:80 HTTP/1.1\r\n${'X: y\r\n'.repeat(5)}\r\n`;
  const parsed = parseConnectHead(bytes(head), { maxHeaders: 4 });
  assert.ok(parsed.state === 'error' && /header fields/.test(parsed.reason));
});

test('random bytes never throw and every result is well formed', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 600 }),
      fc.integer({ min: 16, max: 512 }),
      (data, max) => {
        const parsed = parseConnectHead(data, { maxHeadBytes: max });
        if (parsed.state === 'complete') {
          assert.ok(parsed.headLength <= data.length);
          assert.ok(parsed.head.port >= 1 && parsed.head.port <= 65535);
        } else if (parsed.state === 'incomplete') {
          assert.ok(data.length < max);
        } else {
          assert.ok(parsed.status === 400 || parsed.status === 405);
        }
      },
    ),
    { numRuns: 3000 },
  );
});

test('random CONNECT-shaped heads with random tails keep the tail byte for byte', () => {
  const hostArb = fc.stringMatching(/^[a-z](?:[a-z0-9-]{0,18}[a-z0-9])?(?:\.[a-z]{2,5})?$/);
  fc.assert(
    fc.property(
      hostArb,
      fc.integer({ min: 1, max: 65535 }),
      fc.uint8Array({ maxLength: 64 }),
      (host, port, tail) => {
        const head = bytes(`CONNECT ${host}:${port} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
        const parsed = parseConnectHead(Buffer.concat([head, tail]));
        assert.ok(parsed.state === 'complete');
        assert.equal(parsed.head.target, `${host}:${port}`);
        assert.equal(parsed.headLength, head.length);
      },
    ),
    { numRuns: 500 },
  );
});
