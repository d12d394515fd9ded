import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RequestHeadError, parseRequestHead, type RequestHead } from './request-head-parser.js';

/** Joins a request line and header lines into a head as the server hands it over. */
function head(requestLine: string, ...fields: string[]): string {
  return [requestLine, ...fields].join('\r\n');
}

/** Parses a request line with the given fields. */
function parse(requestLine: string, ...fields: string[]): RequestHead {
  return parseRequestHead(head(requestLine, ...fields));
}

/** Asserts that parsing throws a RequestHeadError with `status` and a message matching `message`. */
function refuses(text: string, status: number, message: RegExp): void {
  assert.throws(
    () => parseRequestHead(text),
    (err: unknown) => {
      assert.ok(err instanceof RequestHeadError, `not a RequestHeadError: ${String(err)}`);
      assert.equal(err.name, 'RequestHeadError');
      assert.equal(err.status, status, `status for ${JSON.stringify(text)}: ${err.message}`);
      assert.match(err.message, message);
      return true;
    },
  );
}

describe('parseRequestHead request line', () => {
  test('reads method, origin-form target and HTTP/1.1 from the request line', () => {
    const h = parse('GET /a/b?c=d&e HTTP/1.1', 'Host: example.com');
    assert.equal(h.method, 'GET');
    assert.equal(h.target, '/a/b?c=d&e');
    assert.equal(h.minor, 1);
    assert.equal(h.host, 'example.com');
  });

  test('turns an absolute-form target into origin-form with its authority as the Host', () => {
    // Otherwise `GET http://h/admin` would slip past a rule or route for the path /admin.
    const h = parse('GET http://example.com:8080/x?y HTTP/1.1', 'Host: other', 'A: b');
    assert.equal(h.target, '/x?y');
    assert.equal(h.host, 'example.com:8080');
    assert.deepEqual(h.rawHeaders, ['Host', 'example.com:8080', 'A', 'b']);
    assert.equal(parse('GET https://a.example HTTP/1.1', 'Host: a.example').target, '/');
    assert.equal(parse('GET http://a.example?q=1 HTTP/1.1', 'Host: a.example').target, '/?q=1');
    const old = parse('GET http://a.example/p HTTP/1.0');
    assert.deepEqual(
      [old.target, old.host, old.rawHeaders],
      ['/p', 'a.example', ['Host', 'a.example']],
    );
    for (const target of ['http:///x', 'http://user@a.example/x'])
      assert.throws(() => parse(`GET ${target} HTTP/1.1`, 'Host: a'), /bad authority/);
  });

  test('accepts the asterisk-form target of OPTIONS', () => {
    const h = parse('OPTIONS * HTTP/1.1', 'Host: a');
    assert.equal(h.method, 'OPTIONS');
    assert.equal(h.target, '*');
  });

  test('accepts the authority-form target of CONNECT (the server refuses CONNECT later)', () => {
    assert.equal(
      parse('CONNECT example.com:443 HTTP/1.1', 'Host: example.com:443').target,
      'example.com:443',
    );
  });

  test('refuses a relative target that is neither origin-, absolute- nor asterisk-form', () => {
    refuses(head('GET admin HTTP/1.1', 'Host: a'), 400, /bad request target "admin"/);
    refuses(head('GET ?x=1 HTTP/1.1', 'Host: a'), 400, /bad request target/);
    refuses(head('GET example.com:443 HTTP/1.1', 'Host: a'), 400, /bad request target/);
    refuses(head('GET http:x HTTP/1.1', 'Host: a'), 400, /bad request target/);
  });

  test('reads HTTP/1.0 as minor 0 and does not require Host', () => {
    const h = parse('GET / HTTP/1.0');
    assert.equal(h.minor, 0);
    assert.equal(h.host, undefined);
    assert.deepEqual(h.rawHeaders, []);
  });

  test('accepts any token as method, case kept', () => {
    assert.equal(parse('PROPFIND / HTTP/1.1', 'Host: a').method, 'PROPFIND');
    assert.equal(parse('get / HTTP/1.1', 'Host: a').method, 'get');
    assert.equal(parse("M!#$%&'*+.^_`|~9-x / HTTP/1.1", 'Host: a').method, "M!#$%&'*+.^_`|~9-x");
  });

  test('refuses an empty method', () => {
    refuses(head(' / HTTP/1.1', 'Host: a'), 400, /bad request line/);
  });

  test('refuses a method with characters outside token', () => {
    refuses(head('GE(T / HTTP/1.1', 'Host: a'), 400, /bad method "GE\(T"/);
    refuses(head('GE\u0001T / HTTP/1.1', 'Host: a'), 400, /bad method/);
    refuses(head('G\u00e9T / HTTP/1.1', 'Host: a'), 400, /bad method/);
    refuses(head('GE\tT / HTTP/1.1', 'Host: a'), 400, /bad method/);
  });

  test('refuses spaces, controls, DEL and non-ASCII bytes in the target', () => {
    refuses(head('GET /a b HTTP/1.1', 'Host: a'), 400, /bad request target "\/a b"/);
    refuses(head('GET  / HTTP/1.1', 'Host: a'), 400, /bad request target/);
    refuses(head('GET /a\tb HTTP/1.1', 'Host: a'), 400, /bad request target/);
    refuses(head('GET /a\u0000b HTTP/1.1', 'Host: a'), 400, /bad request target/);
    refuses(head('GET /a\u007fb HTTP/1.1', 'Host: a'), 400, /bad request target/);
    refuses(head('GET /\u00e9 HTTP/1.1', 'Host: a'), 400, /bad request target/);
  });

  test('refuses a request line without three parts', () => {
    refuses(head('GET', 'Host: a'), 400, /bad request line "GET"/);
    refuses(head('GET /', 'Host: a'), 400, /bad request line/);
    refuses(head('GET / HTTP/1.1 ', 'Host: a'), 400, /bad request line/);
    refuses('', 400, /bad request line/);
  });

  test('refuses a request line cut by a bare LF', () => {
    refuses('GET / HTTP/1.1\nHost: a', 400, /bad request line/);
    refuses('GET / HTTP/1.1\rHost: a', 400, /bad request line/);
  });

  test('refuses lowercase or malformed version strings with 400', () => {
    refuses(head('GET / http/1.1', 'Host: a'), 400, /bad request line .*http\/1\.1/);
    refuses(head('GET / HTTP/1.1x', 'Host: a'), 400, /bad request line/);
    refuses(head('GET / HTTP/1', 'Host: a'), 400, /bad request line/);
    refuses(head('GET / HTTP/1,1', 'Host: a'), 400, /bad HTTP version "HTTP\/1,1"/);
    refuses(head('GET / HTTP/x.1', 'Host: a'), 400, /bad HTTP version/);
    refuses(head('GET / HTTP/1.y', 'Host: a'), 400, /bad HTTP version/);
  });

  test('refuses well-formed versions other than 1.0 and 1.1 with 505', () => {
    refuses(head('GET / HTTP/2.0', 'Host: a'), 505, /HTTP version 2\.0 is not supported/);
    refuses(head('GET / HTTP/1.2', 'Host: a'), 505, /HTTP version 1\.2 is not supported/);
    refuses(head('GET / HTTP/0.9', 'Host: a'), 505, /HTTP version 0\.9 is not supported/);
  });

  test('quotes and shortens a long bad line in the message', () => {
    const long = `GET /${'x'.repeat(200)}`;
    refuses(head(long, 'Host: a'), 400, /^bad request line "GET \/x{75}…"$/);
  });
});

describe('parseRequestHead header fields', () => {
  test('keeps rawHeaders in order with case and duplicates', () => {
    const h = parse('GET / HTTP/1.1', 'X-B: 1', 'host: a', 'x-b: 2', 'X-A: 3', 'X-B: 1');
    assert.deepEqual(h.rawHeaders, ['X-B', '1', 'host', 'a', 'x-b', '2', 'X-A', '3', 'X-B', '1']);
  });

  test('trims spaces and tabs around values but keeps inner whitespace', () => {
    const h = parse('GET / HTTP/1.1', 'Host:a', 'X-One: \t value  with  spaces \t ', 'X-Empty:   ');
    assert.deepEqual(h.rawHeaders, ['Host', 'a', 'X-One', 'value  with  spaces', 'X-Empty', '']);
  });

  test('finds Host whatever its case', () => {
    assert.equal(parse('GET / HTTP/1.1', 'hOsT:  example.com:8443 ').host, 'example.com:8443');
  });

  test('refuses an HTTP/1.1 request without Host', () => {
    refuses(head('GET / HTTP/1.1', 'X-A: 1'), 400, /no Host field/);
  });

  test('refuses two Host fields, even with equal values', () => {
    refuses(head('GET / HTTP/1.1', 'Host: a', 'Host: b'), 400, /more than one Host field/);
    refuses(head('GET / HTTP/1.0', 'Host: a', 'host: a'), 400, /more than one Host field/);
  });

  test('joins several Cookie fields with "; "', () => {
    const h = parse('GET / HTTP/1.1', 'Host: a', 'Cookie: a=1', 'X: y', 'cookie: b=2; c=3');
    assert.equal(h.cookie, 'a=1; b=2; c=3');
    assert.equal(parse('GET / HTTP/1.1', 'Host: a', 'Cookie: only=1').cookie, 'only=1');
    assert.equal(parse('GET / HTTP/1.1', 'Host: a').cookie, undefined);
  });

  test('sets expectContinue for Expect: 100-continue in any case only', () => {
    assert.equal(parse('PUT / HTTP/1.1', 'Host: a', 'Expect: 100-Continue').expectContinue, true);
    assert.equal(parse('PUT / HTTP/1.1', 'Host: a', 'Expect: 100-continue').expectContinue, true);
    assert.equal(parse('PUT / HTTP/1.1', 'Host: a', 'Expect: 200-ok').expectContinue, false);
    // Never for HTTP/1.0 clients (RFC 9110 §10.1.1).
    assert.equal(parse('PUT / HTTP/1.0', 'Expect: 100-continue').expectContinue, false);
    assert.equal(parse('PUT / HTTP/1.1', 'Host: a').expectContinue, false);
  });

  test('refuses a line without a colon', () => {
    refuses(head('GET / HTTP/1.1', 'Host: a', 'NoColonHere'), 400, /bad header line "NoColonHere"/);
  });

  test('refuses whitespace between the field name and the colon', () => {
    refuses(head('GET / HTTP/1.1', 'Host : a'), 400, /bad header name "Host "/);
    refuses(head('GET / HTTP/1.1', 'Host: a', 'Content-Length\t: 5'), 400, /bad header name/);
  });

  test('refuses obs-fold continuation lines', () => {
    refuses(head('GET / HTTP/1.1', 'Host: a', 'X-A: one', ' two'), 400, /bad header line " two"/);
    refuses(
      head('GET / HTTP/1.1', 'Host: a', 'X-A: one', '\tb: two'),
      400,
      /bad header name "\\tb"/,
    );
  });

  test('refuses an empty field name and names with separators', () => {
    refuses(head('GET / HTTP/1.1', 'Host: a', ': v'), 400, /bad header name ""/);
    refuses(head('GET / HTTP/1.1', 'Host: a', 'X(y): v'), 400, /bad header name/);
  });

  test('refuses CR, LF, NUL and other controls in values but accepts tab and obs-text', () => {
    for (const bad of ['a\rb', 'a\nb', 'a\u0000b', 'a\u0001b', 'a\u001fb', 'a\u007fb', 'a\r']) {
      refuses(
        head('GET / HTTP/1.1', 'Host: a', `X-Evil: ${bad}`),
        400,
        /bad value in header X-Evil/,
      );
    }
    const h = parse('GET / HTTP/1.1', 'Host: a', 'X-Ok: a\tb \u00e9\u00ff');
    assert.deepEqual(h.rawHeaders.slice(2), ['X-Ok', 'a\tb \u00e9\u00ff']);
  });

  test('refuses a bare LF that would start a smuggled field', () => {
    refuses(
      head('GET / HTTP/1.1', 'Host: a\nTransfer-Encoding: chunked'),
      400,
      /bad value in header Host/,
    );
  });

  test('refuses an empty line inside the head', () => {
    refuses(head('GET / HTTP/1.1', 'Host: a', '', 'X: 1'), 400, /bad header line ""/);
  });
});

describe('parseRequestHead connection handling', () => {
  test('HTTP/1.1 stays open unless Connection has close', () => {
    assert.equal(parse('GET / HTTP/1.1', 'Host: a').close, false);
    assert.equal(parse('GET / HTTP/1.1', 'Host: a', 'Connection: keep-alive').close, false);
    assert.equal(parse('GET / HTTP/1.1', 'Host: a', 'Connection: close').close, true);
    assert.equal(parse('GET / HTTP/1.1', 'Host: a', 'connection: Close').close, true);
    assert.equal(parse('GET / HTTP/1.1', 'Host: a', 'Connection: TE, close').close, true);
  });

  test('HTTP/1.0 closes unless Connection has keep-alive', () => {
    assert.equal(parse('GET / HTTP/1.0').close, true);
    assert.equal(parse('GET / HTTP/1.0', 'Connection: Keep-Alive').close, false);
    assert.equal(parse('GET / HTTP/1.0', 'Connection: foo, keep-alive').close, false);
    assert.equal(parse('GET / HTTP/1.0', 'Connection: keep-alive, close').close, true);
  });

  test('finds tokens in a list spread over several Connection fields', () => {
    const h = parse('GET / HTTP/1.0', 'Connection: foo', 'Connection: keep-alive');
    assert.equal(h.close, false);
    const h2 = parse('GET / HTTP/1.1', 'Host: a', 'Connection: keep-alive', 'Connection: close');
    assert.equal(h2.close, true);
  });

  test('matches Connection tokens whole, not as substrings', () => {
    assert.equal(parse('GET / HTTP/1.1', 'Host: a', 'Connection: x-close-notify').close, false);
    assert.equal(parse('GET / HTTP/1.1', 'Host: a', 'Connection: enclosed').close, false);
    assert.equal(parse('GET / HTTP/1.0', 'Connection: no-keep-alive').close, true);
    const h = parse('GET / HTTP/1.1', 'Host: a', 'Connection: x-upgrade', 'Upgrade: websocket');
    assert.equal(h.upgrade, undefined);
  });

  test('reports Upgrade when Connection lists upgrade among other tokens', () => {
    const h = parse(
      'GET /ws HTTP/1.1',
      'Host: a',
      'Connection: keep-alive, Upgrade',
      'Upgrade: websocket',
    );
    assert.equal(h.upgrade, 'websocket');
    assert.equal(h.close, false);
  });

  test('ignores Upgrade when Connection does not list upgrade', () => {
    assert.equal(parse('GET / HTTP/1.1', 'Host: a', 'Upgrade: websocket').upgrade, undefined);
    const h = parse('GET / HTTP/1.1', 'Host: a', 'Connection: keep-alive', 'Upgrade: h2c');
    assert.equal(h.upgrade, undefined);
  });

  test('reports no upgrade when Connection lists upgrade without an Upgrade field', () => {
    assert.equal(parse('GET / HTTP/1.1', 'Host: a', 'Connection: upgrade').upgrade, undefined);
  });
});

describe('parseRequestHead body framing', () => {
  test('has no body framing without Content-Length or Transfer-Encoding', () => {
    const h = parse('POST / HTTP/1.1', 'Host: a');
    assert.equal(h.contentLength, -1);
    assert.equal(h.chunked, false);
  });

  test('reads Content-Length, including 0, leading zeros and repeated equal values', () => {
    assert.equal(parse('POST / HTTP/1.1', 'Host: a', 'Content-Length: 42').contentLength, 42);
    assert.equal(parse('POST / HTTP/1.1', 'Host: a', 'content-length:0').contentLength, 0);
    assert.equal(parse('POST / HTTP/1.1', 'Host: a', 'Content-Length: 007').contentLength, 7);
    const h = parse('POST / HTTP/1.1', 'Host: a', 'Content-Length: 5', 'Content-Length: 5');
    assert.equal(h.contentLength, 5);
    assert.equal(h.chunked, false);
  });

  test('reads Content-Length up to 15 digits and refuses 16', () => {
    const max = '9'.repeat(15);
    assert.equal(
      parse('POST / HTTP/1.1', 'Host: a', `Content-Length: ${max}`).contentLength,
      Number(max),
    );
    refuses(
      head('POST / HTTP/1.1', 'Host: a', `Content-Length: 1${max}`),
      400,
      /bad Content-Length/,
    );
  });

  test('refuses conflicting Content-Length values', () => {
    refuses(
      head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 5', 'Content-Length: 6'),
      400,
      /conflicting Content-Length fields/,
    );
  });

  test('refuses non-numeric, signed, listed or empty Content-Length', () => {
    for (const v of ['abc', '+5', '-1', '5, 5', '0x10', '1e3', '5 5', '', '\u00b2']) {
      refuses(
        head('POST / HTTP/1.1', 'Host: a', `Content-Length: ${v}`),
        400,
        /bad Content-Length/,
      );
    }
  });

  test('reads Transfer-Encoding: chunked in HTTP/1.1, case-insensitively', () => {
    for (const te of ['chunked', 'Chunked', 'CHUNKED', ' chunked ']) {
      const h = parse('POST / HTTP/1.1', 'Host: a', `Transfer-Encoding: ${te}`);
      assert.equal(h.chunked, true, te);
      assert.equal(h.contentLength, -1);
    }
  });

  test('refuses another coding before chunked with 501: it would be lost on the way upstream', () => {
    refuses(
      head('POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: gzip, chunked'),
      501,
      /transfer coding "gzip, chunked" is not supported; send the body with Transfer-Encoding: chunked alone/,
    );
    refuses(
      head('POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: gzip', 'Transfer-Encoding: chunked'),
      501,
      /transfer coding "gzip, chunked" is not supported/,
    );
  });

  test('refuses a transfer coding other than chunked last with 501', () => {
    refuses(
      head('POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: gzip'),
      501,
      /transfer coding "gzip" is not supported/,
    );
    refuses(
      head('POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked, gzip'),
      501,
      /transfer coding "chunked, gzip" is not supported/,
    );
    refuses(
      head('POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked', 'Transfer-Encoding: gzip'),
      501,
      /transfer coding "chunked, gzip" is not supported/,
    );
    refuses(
      head('POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: xchunked'),
      501,
      /not supported/,
    );
    refuses(
      head('POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked;q=1'),
      501,
      /not supported/,
    );
  });

  test('refuses Transfer-Encoding in an HTTP/1.0 request', () => {
    refuses(
      head('POST / HTTP/1.0', 'Transfer-Encoding: chunked'),
      400,
      /Transfer-Encoding in an HTTP\/1\.0 request/,
    );
  });
});

describe('parseRequestHead Host, target normalization and TRACE', () => {
  test('refuses an invalid Host field or absolute-form authority with 400 (RFC 9112 §3.2)', () => {
    const invalid = [
      'b.test x',
      'b.test/admin',
      'a@b.test',
      '',
      'b.test:80:90',
      '[a.test]',
      'a.test;',
    ];
    for (const host of invalid)
      refuses(head('GET / HTTP/1.1', `Host: ${host}`), 400, /invalid Host/);
    refuses(head('GET http://b.test:80:90/ HTTP/1.1', 'Host: b.test'), 400, /invalid Host/);
    assert.equal(parse('GET / HTTP/1.1', 'Host: [::1]:8080').host, '[::1]:8080');
    assert.equal(parse('GET / HTTP/1.1', 'Host: B.test.:443').host, 'B.test.:443');
  });

  test('refuses "#", "\\", bad %-escapes, decoded controls and ".." above the root with 400', () => {
    const targets = ['/admin#x', '/admin\\x', '/%zz', '/a%00', '/../admin', '/x/%2e%2e/%2e%2e/a'];
    for (const target of targets)
      refuses(head(`GET ${target} HTTP/1.1`, 'Host: a'), 400, /bad request target: /);
    refuses(head('GET http://a.test/x#y HTTP/1.1', 'Host: a'), 400, /"#"/);
  });

  test('keeps the target as sent when it only needs normalizing', () => {
    assert.equal(
      parse('GET //x/../%61dmin?q=/.. HTTP/1.1', 'Host: a').target,
      '//x/../%61dmin?q=/..',
    );
  });

  test('answers TRACE with 405', () => {
    refuses(head('TRACE / HTTP/1.1', 'Host: a', 'Cookie: s=1'), 405, /TRACE is not served/);
  });
});
