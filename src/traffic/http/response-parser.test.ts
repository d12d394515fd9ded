import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ResponseParser, type ResponseHead } from './response-parser.js';

interface Parsed {
  heads: ResponseHead[];
  body: string;
  lastFlags: boolean[];
  ends: number;
}

/** Feeds `pieces` to a fresh parser; returns what it reported and the parser. */
function parse(pieces: (string | Buffer)[], noBody = false): Parsed & { parser: ResponseParser } {
  const out: Parsed = { heads: [], body: '', lastFlags: [], ends: 0 };
  const parser = new ResponseParser({
    onHead: (h) => out.heads.push(h),
    onBody: (c, last) => {
      out.body += c.toString('latin1');
      out.lastFlags.push(last);
    },
    onEnd: () => out.ends++,
  });
  parser.expect(noBody);
  for (const p of pieces) parser.execute(typeof p === 'string' ? Buffer.from(p, 'latin1') : p);
  return Object.assign(out, { parser });
}

/** Splits `text` at the given cut points. */
function cut(text: string, points: number[]): string[] {
  const sorted = [...new Set(points.map((p) => p % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let prev = 0;
  for (const p of sorted) {
    out.push(text.slice(prev, p));
    prev = p;
  }
  out.push(text.slice(prev));
  return out;
}

describe('response parser', () => {
  test('reads a Content-Length response and flags its last chunk', () => {
    const r = parse(['HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhel', 'lo']);
    assert.equal(r.heads[0]?.status, 200);
    assert.equal(r.heads[0]?.statusText, 'OK');
    assert.deepEqual(r.heads[0]?.rawHeaders, ['Content-Length', '5', 'X-A', '1']);
    assert.equal(r.heads[0]?.contentLength, 5);
    assert.equal(r.body, 'hello');
    assert.deepEqual(r.lastFlags, [false, true]);
    assert.equal(r.ends, 1);
    assert.equal(r.parser.reusable, true);
  });

  test('decodes chunked bodies with extensions and trailers', () => {
    const r = parse([
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n',
    ]);
    assert.equal(r.body, 'hello world');
    assert.equal(r.ends, 1);
    assert.equal(r.parser.reusable, true);
  });

  test('any split of a response into pieces gives the same result', () => {
    const chunked =
      'HTTP/1.1 201 Created\r\nTransfer-Encoding: Chunked\r\nSet-Cookie: a=1\r\n\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n3;e\r\nxyz\r\n0\r\n\r\n';
    const counted =
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n0123456789';
    fc.assert(
      fc.property(fc.array(fc.nat(200), { maxLength: 12 }), (points) => {
        const a = parse(cut(chunked, points));
        assert.equal(a.body, 'abcdefghijklmnopqrstuvwxyzxyz');
        assert.equal(a.heads.length, 1);
        assert.equal(a.ends, 1);
        const b = parse(cut(counted, points));
        assert.equal(b.body, '0123456789');
        assert.equal(b.heads[0]?.status, 200);
        assert.equal(b.ends, 1);
      }),
    );
  });

  test('a body without length runs until close and the connection is not reused', () => {
    const r = parse(['HTTP/1.1 200 OK\r\n\r\nstream', 'ing']);
    assert.equal(r.heads[0]?.keepAlive, false);
    assert.equal(r.ends, 0);
    assert.equal(r.parser.readsUntilClose, true);
    assert.equal(r.parser.finish(), true);
    assert.equal(r.ends, 1);
    assert.equal(r.body, 'streaming');
    assert.equal(r.parser.reusable, false);
  });

  test('HEAD, 204 and 304 responses have no body even with Content-Length', () => {
    const head = parse(['HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n'], true);
    assert.equal(head.ends, 1);
    assert.equal(head.parser.reusable, true);
    for (const status of ['204 No Content', '304 Not Modified']) {
      const r = parse([`HTTP/1.1 ${status}\r\nContent-Length: 7\r\n\r\n`]);
      assert.equal(r.ends, 1);
      assert.equal(r.body, '');
    }
  });

  test('Connection: close and HTTP/1.0 without keep-alive make the connection not reusable', () => {
    assert.equal(
      parse(['HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n']).parser.reusable,
      false,
    );
    assert.equal(parse(['HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n']).parser.reusable, false);
    assert.equal(
      parse(['HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n']).parser
        .reusable,
      true,
    );
  });

  test('bytes after a complete response mark the connection unusable', () => {
    const r = parse(['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA']);
    assert.equal(r.body, 'ok');
    assert.equal(r.parser.reusable, false);
  });

  test('a response cut short is incomplete when the upstream closes', () => {
    const r = parse(['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort']);
    assert.equal(r.parser.finish(), false);
    assert.equal(r.ends, 0);
  });

  test('invalid responses throw with the reason', () => {
    const bad: [string, RegExp][] = [
      ['SSH-2.0-OpenSSH\r\n\r\n', /bad status line/],
      ['HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n', /bad header line/],
      ['HTTP/1.1 200 OK\r\n folded: x\r\n\r\n', /bad header line/],
      ['HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', /Content-Length/],
      ['HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', /Content-Length/],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /chunk size/],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX', /CRLF/],
      ['HTTP/1.1 101 Switching Protocols\r\n\r\n', /101/],
    ];
    for (const [text, reason] of bad) assert.throws(() => parse([text]), reason, text);
  });

  test('a transfer coding besides chunked is refused, since the body is re-framed', () => {
    for (const te of ['gzip, chunked', 'gzip', 'chunked, chunked', 'identity']) {
      const text = `HTTP/1.1 200 OK\r\nTransfer-Encoding: ${te}\r\n\r\n5\r\nhello\r\n0\r\n\r\n`;
      assert.throws(() => parse([text]), /unsupported Transfer-Encoding/, te);
    }
    const two = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n';
    assert.throws(() => parse([two]), /unsupported Transfer-Encoding "gzip, chunked"/);
  });

  test('a head with a bare LF line end throws at once, however it is split', () => {
    const heads = [
      'HTTP/1.1 200 OK\nContent-Length: 2\n\nok',
      'HTTP/1.1 200 OK\r\nContent-Length: 2\nX-A: 1\r\n\r\nok',
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\nok',
    ];
    fc.assert(
      fc.property(fc.array(fc.nat(60), { maxLength: 6 }), (points) => {
        for (const text of heads)
          assert.throws(() => parse(cut(text, points)), /bare LF line ending/, text);
      }),
    );
    // LF in the body is body: not a line end.
    assert.equal(parse(['HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n\n\n\n']).body, '\n\n\n');
  });

  test('a header section over the limit throws even before it is complete', () => {
    const parser = new ResponseParser(
      { onHead: () => undefined, onBody: () => undefined, onEnd: () => undefined },
      { maxHeadBytes: 100 },
    );
    parser.expect(false);
    assert.throws(
      () => parser.execute(Buffer.from(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(200)}`)),
      /over 100 bytes/,
    );
  });

  test('the parser is reusable across responses on one connection', () => {
    const out: string[] = [];
    const parser = new ResponseParser({
      onHead: (h) => out.push(String(h.status)),
      onBody: (c) => out.push(c.toString()),
      onEnd: () => out.push('end'),
    });
    for (const status of [200, 404]) {
      parser.expect(false);
      parser.execute(Buffer.from(`HTTP/1.1 ${status} X\r\nContent-Length: 2\r\n\r\nok`));
    }
    assert.deepEqual(out, ['200', 'ok', 'end', '404', 'ok', 'end']);
  });

  test('plain header lines are offered for forwarding as received, without the Connection line', () => {
    const lines =
      'x-lower:  a \r\nX-Dup: 1\r\nConnection: Keep-Alive\r\nX-Dup: 2\r\nContent-Length: 2\r\n';
    const r = parse([`HTTP/1.1 200 OK\r\n${lines}\r\nok`]);
    assert.equal(
      r.heads[0]?.forwardable,
      'x-lower:  a \r\nX-Dup: 1\r\nX-Dup: 2\r\nContent-Length: 2\r\n',
    );
    assert.equal(r.heads[0]?.hasDate, false);
    const last = parse(['HTTP/1.1 204 No Content\r\nDate: x\r\nconnection: close\r\n\r\n']);
    assert.equal(last.heads[0]?.forwardable, 'Date: x\r\n');
    assert.equal(last.heads[0]?.hasDate, true);
    assert.equal(parse(['HTTP/1.1 204 No Content\r\n\r\n']).heads[0]?.forwardable, '');
  });

  test('the field list keeps order, case and repeats, with values trimmed', () => {
    const r = parse([
      'HTTP/1.1 200 OK\r\nX-A:  spaced value \t\r\nx-a:\r\nContent-Length:0\r\n\r\n',
    ]);
    assert.deepEqual(r.heads[0]?.rawHeaders, [
      'X-A',
      'spaced value',
      'x-a',
      '',
      'Content-Length',
      '0',
    ]);
    assert.equal(r.heads[0]?.contentLength, 0);
  });

  test('fields a proxy must change or check are not offered for forwarding as received', () => {
    const cases = [
      'Keep-Alive: timeout=5\r\nContent-Length: 0',
      'Transfer-Encoding: chunked\r\n\r\n0',
      'Connection: keep-alive, X-Secret\r\nX-Secret: 1\r\nContent-Length: 0',
      'Connection: close\r\nConnection: close\r\nContent-Length: 0',
      'Upgrade: h2c\r\nContent-Length: 0',
      'Trailer: X-T\r\nContent-Length: 0',
      'X-Bad: a\x01b\r\nContent-Length: 0',
      'X-Bad: a\rInjected: yes\r\nContent-Length: 0',
      'X-Bad: a\x7f\r\nContent-Length: 0',
      // Every hop-by-hop name, in any case (isHopByHop in header-list.ts).
      ...['Keep-Alive', 'PROXY-CONNECTION', 'te', 'TRAILER', 'upgrade', 'HTTP2-Settings'].map(
        (name) => `${name}: x\r\nContent-Length: 0`,
      ),
    ];
    for (const fields of cases) {
      const r = parse([`HTTP/1.1 200 OK\r\n${fields}\r\n\r\n`]);
      assert.equal(r.heads.length, 1, fields);
      assert.equal(r.heads[0]?.forwardable, undefined, fields);
    }
    // An LF inside a value is a bare LF line end: the whole response is refused.
    const lf = 'HTTP/1.1 200 OK\r\nX-Bad: a\nInjected: yes\r\nContent-Length: 0\r\n\r\n';
    assert.throws(() => parse([lf]), /bare LF line ending/);
  });
});
