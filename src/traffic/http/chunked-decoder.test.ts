import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ChunkedDecoder, hexValue } from './chunked-decoder.js';

/** What a decoder reported while it was fed. */
interface Run {
  chunks: Buffer[];
  ends: number;
  /** Offset in the whole input just after the body, or -1 when it did not end. */
  bodyEnd: number;
  decoder: ChunkedDecoder;
}

/** A decoder whose handler records its calls, checking that data is never empty or late. */
function recorder(maxTrailerBytes?: number): Run {
  const chunks: Buffer[] = [];
  let ends = 0;
  const decoder = new ChunkedDecoder(
    {
      onData(chunk) {
        assert.ok(chunk.length > 0, 'onData with an empty chunk');
        assert.equal(ends, 0, 'onData after onEnd');
        chunks.push(Buffer.from(chunk));
      },
      onEnd() {
        ends++;
      },
    },
    maxTrailerBytes,
  );
  return {
    chunks,
    get ends() {
      return ends;
    },
    bodyEnd: -1,
    decoder,
  };
}

/**
 * Feeds `input` cut at `cuts`, each piece as its own buffer (`views`) or as an offset into the
 * input (`offsets`), and checks what execute returns for each piece.
 */
function feed(
  input: Buffer,
  cuts: number[],
  opts: { mode?: 'views' | 'offsets'; maxTrailerBytes?: number } = {},
): Run {
  const run = recorder(opts.maxTrailerBytes);
  const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
  points.push(input.length);
  let start = 0;
  for (const end of points) {
    if (end === start) continue;
    const wasDone = run.decoder.done;
    let at: number;
    if (opts.mode === 'offsets') {
      at = run.decoder.execute(input.subarray(0, end), start) - start;
    } else {
      at = run.decoder.execute(input.subarray(start, end));
    }
    if (wasDone) assert.equal(at, 0, 'a finished decoder consumed bytes');
    else if (run.decoder.done) run.bodyEnd = start + at;
    else assert.equal(at, end - start, 'an unfinished decoder left bytes unread');
    start = end;
  }
  return run;
}

/** Every position: feeds one byte at a time. */
function everyByte(input: Buffer): number[] {
  return Array.from({ length: input.length }, (_, i) => i);
}

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
const text = (run: Run): string => Buffer.concat(run.chunks).toString('latin1');

/** Asserts that decoding `input`, whole and byte by byte, throws an Error matching `message`. */
function fails(input: string, message: RegExp, maxTrailerBytes?: number): void {
  const bytes = latin1(input);
  const opts = maxTrailerBytes === undefined ? {} : { maxTrailerBytes };
  assert.throws(() => feed(bytes, [], opts), message, `whole ${JSON.stringify(input)}`);
  assert.throws(
    () => feed(bytes, everyByte(bytes), opts),
    message,
    `bytewise ${JSON.stringify(input)}`,
  );
}

describe('ChunkedDecoder', () => {
  test('decodes a fixed example with an extension and trailers', () => {
    const input = latin1(
      '4\r\nWiki\r\n6;name=value\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\n',
    );
    const run = feed(input, []);
    assert.equal(text(run), 'Wikipedia in \r\n\r\nchunks.');
    assert.equal(run.ends, 1);
    assert.equal(run.bodyEnd, input.length);
    assert.equal(run.decoder.done, true);
  });

  test('hands out chunk data as views of the input without copying', () => {
    const input = latin1('5\r\nhello\r\n0\r\n\r\n');
    const seen: Buffer[] = [];
    const decoder = new ChunkedDecoder({ onData: (c) => seen.push(c), onEnd: () => undefined });
    decoder.execute(input);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.buffer, input.buffer);
    assert.equal(seen[0]?.byteOffset, input.byteOffset + 3);
  });

  test('decodes an empty body: the last chunk only', () => {
    const run = feed(latin1('0\r\n\r\n'), []);
    assert.deepEqual(run.chunks, []);
    assert.equal(run.ends, 1);
    assert.equal(run.bodyEnd, 5);
  });

  test('reads uppercase, lowercase and mixed hex sizes', () => {
    const body = 'x'.repeat(0xab + 0xcd + 0x1f);
    const input = latin1(
      `AB\r\n${body.slice(0, 0xab)}\r\ncd\r\n${body.slice(0xab, 0xab + 0xcd)}\r\n1F\r\n${body.slice(0xab + 0xcd)}\r\n0\r\n\r\n`,
    );
    assert.equal(text(feed(input, [])), body);
  });

  test('accepts a size of 12 hex digits with leading zeros', () => {
    assert.equal(text(feed(latin1('000000000003\r\nabc\r\n0\r\n\r\n'), [])), 'abc');
  });

  test('accepts whitespace before an extension and quoted extension values', () => {
    const run = feed(latin1('3 \t;a=1;b="x y"\r\nabc\r\n0;last\r\n\r\n'), []);
    assert.equal(text(run), 'abc');
    assert.equal(run.ends, 1);
  });

  test('returns the offset just after the body and leaves the next request alone', () => {
    const body = '3\r\nabc\r\n0\r\n\r\n';
    const input = latin1(`${body}GET / HTTP/1.1\r\n`);
    const run = recorder();
    assert.equal(run.decoder.execute(input), body.length);
    assert.equal(run.ends, 1);
    const at = body.length + 4;
    assert.equal(run.decoder.execute(input, at), at, 'a finished decoder reads nothing more');
    assert.equal(run.ends, 1);
    assert.equal(text(run), 'abc');
  });

  test('starts at the given offset', () => {
    const input = latin1('XXXX2\r\nhi\r\n0\r\n\r\n');
    const run = recorder();
    assert.equal(run.decoder.execute(input, 4), input.length);
    assert.equal(text(run), 'hi');
    assert.equal(run.ends, 1);
  });

  test('is not done before the final empty line', () => {
    const run = feed(latin1('3\r\nabc\r\n0\r\nX: y\r\n'), []);
    assert.equal(run.decoder.done, false);
    assert.equal(run.ends, 0);
    assert.equal(text(run), 'abc');
  });

  test('any split of a random encoding yields the body, one end and the body end offset', () => {
    const token = fc.stringMatching(/^[a-zA-Z0-9!#$%&'*+.^_`|~-]{1,10}$/);
    const extension = fc.tuple(
      fc.constantFrom('', ' ', '\t', ' \t '),
      token,
      fc.option(
        fc.oneof(
          token,
          token.map((v) => `"${v} ${v}"`),
        ),
        { nil: undefined },
      ),
    );
    const encoding = fc.record({
      body: fc.uint8Array({ maxLength: 2000 }),
      sizes: fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 20 }),
      extensions: fc.array(fc.option(extension, { nil: undefined }), { maxLength: 5 }),
      upper: fc.boolean(),
      zeros: fc.integer({ min: 0, max: 3 }),
      trailers: fc.array(fc.tuple(token, fc.stringMatching(/^[ -~]{0,20}$/)), { maxLength: 4 }),
      extra: fc.uint8Array({ maxLength: 40 }),
    });
    const split = fc.oneof(
      fc.array(fc.nat(), { maxLength: 30 }),
      fc.constant('every-byte' as const),
    );
    fc.assert(
      fc.property(
        encoding,
        split,
        fc.constantFrom('views' as const, 'offsets' as const),
        (e, cuts, mode) => {
          const body = Buffer.from(e.body);
          const wire = encode(body, e);
          const input = Buffer.concat([wire, Buffer.from(e.extra)]);
          const run = feed(input, cuts === 'every-byte' ? everyByte(input) : cuts, { mode });
          assert.deepEqual(Buffer.concat(run.chunks), body);
          assert.equal(run.ends, 1);
          assert.equal(run.bodyEnd, wire.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('hexValue maps hex digits of either case and refuses others', () => {
    const digits = '0123456789abcdef';
    for (let i = 0; i < 16; i++) {
      assert.equal(hexValue(digits.charCodeAt(i)), i);
      assert.equal(hexValue(digits.toUpperCase().charCodeAt(i)), i);
    }
    for (const c of 'gG/:@`xX -;\r\n') assert.equal(hexValue(c.charCodeAt(0)), -1, c);
  });
});

describe('ChunkedDecoder refusals', () => {
  test('refuses a size line without a size', () => {
    fails('\r\nabc\r\n0\r\n\r\n', /chunk size missing/);
    fails(';ext\r\nabc\r\n0\r\n\r\n', /chunk size missing/);
  });

  test('refuses a bad character in the size', () => {
    fails('g\r\n', /bad chunk size/);
    fails('-5\r\n', /bad chunk size/);
    fails('0x5\r\n', /bad chunk size/);
    fails('+5\r\n', /bad chunk size/);
    fails(' 5\r\n', /bad chunk size/);
  });

  test('refuses whitespace inside the size instead of reading a shorter size', () => {
    fails('5 6\r\nhello\r\n0\r\n\r\n', /bad chunk size/);
    fails('5\t0;x\r\n', /bad chunk size/);
  });

  test('refuses a size of more than 12 hex digits', () => {
    fails(`${'1'.repeat(13)}\r\n`, /chunk size too large/);
    fails(`${'0'.repeat(13)}\r\n`, /chunk size too large/);
  });

  test('refuses chunk data not followed by CRLF', () => {
    fails('3\r\nabcX\r\n0\r\n\r\n', /chunk not followed by CRLF/);
    fails('3\r\nabc\rX0\r\n\r\n', /chunk not followed by CRLF/);
    fails('3\r\nabc\r\r\n0\r\n\r\n', /chunk not followed by CRLF/);
    fails('3\r\nabcd\r\n0\r\n\r\n', /chunk not followed by CRLF/);
  });

  test('refuses a bare LF after chunk data', () => {
    fails('3\r\nabc\n0\r\n\r\n', /chunk not followed by CRLF/);
  });

  test('refuses a bare CR or bare LF ending a size line', () => {
    fails('3\nabc\r\n0\r\n\r\n', /chunk size line not ended by CRLF/);
    fails('3\rXabc\r\n0\r\n\r\n', /chunk size line not ended by CRLF/);
    fails('3;a\nb\r\nabc\r\n0\r\n\r\n', /chunk size line not ended by CRLF/);
    fails('3;a\rb\r\nabc\r\n0\r\n\r\n', /chunk size line not ended by CRLF/);
    fails('3\r\r\n', /chunk size line not ended by CRLF/);
    fails('0\n\r\n', /chunk size line not ended by CRLF/);
  });

  test('refuses control characters in an extension', () => {
    fails('3;a\u0000\r\nabc\r\n0\r\n\r\n', /bad chunk extension/);
    fails('3;a=\u007f\r\nabc\r\n0\r\n\r\n', /bad chunk extension/);
  });

  test('accepts an extension of 4096 bytes and refuses a longer one', () => {
    const ok = feed(latin1(`1;${'a'.repeat(4096)}\r\nz\r\n0\r\n\r\n`), []);
    assert.equal(text(ok), 'z');
    fails(`1;${'a'.repeat(4097)}\r\nz\r\n0\r\n\r\n`, /chunk extension too long/);
    fails(`1${' '.repeat(5000)}\r\n`, /chunk extension too long/);
  });

  test('accepts trailers up to maxTrailerBytes and refuses more', () => {
    // Limits count the field lines without their CRLFs: "X: 1234567" is 10 bytes.
    const ok = feed(latin1('1\r\nz\r\n0\r\nX: 1234567\r\n\r\n'), [], { maxTrailerBytes: 10 });
    assert.equal(ok.ends, 1);
    fails('1\r\nz\r\n0\r\nX: 12345678\r\n\r\n', /trailer section too large/, 10);
    fails('0\r\nA: 1234\r\nB: 12\r\n\r\n', /trailer section too large/, 10);
  });

  test('limits trailers to 64 KiB by default', () => {
    const field = (n: number): string => `X: ${'v'.repeat(n - 3)}`;
    assert.equal(feed(latin1(`0\r\n${field(65536)}\r\n\r\n`), []).ends, 1);
    fails(`0\r\n${field(65537)}\r\n\r\n`, /trailer section too large/);
  });

  test('refuses a bare CR or bare LF in the trailer section', () => {
    fails('0\r\n\n', /trailer line not ended by CRLF/);
    fails('0\r\nX: y\n\r\n', /trailer line not ended by CRLF/);
    fails('0\r\nX: y\rZ\r\n\r\n', /trailer line not ended by CRLF/);
    fails('0\r\n\r\r\n', /trailer line not ended by CRLF/);
  });
});

interface Encoding {
  sizes: number[];
  extensions: ([string, string, string | undefined] | undefined)[];
  upper: boolean;
  zeros: number;
  trailers: [string, string][];
}

/** Encodes `body` in chunks of the given sizes (cycled), with extensions and trailers. */
function encode(body: Buffer, e: Encoding): Buffer {
  const parts: Buffer[] = [];
  const sizeLine = (n: number, i: number): string => {
    const hex = n.toString(16);
    const ext = e.extensions.length > 0 ? e.extensions[i % e.extensions.length] : undefined;
    const extText =
      ext === undefined ? '' : `${ext[0]};${ext[1]}${ext[2] === undefined ? '' : `=${ext[2]}`}`;
    return `${'0'.repeat(e.zeros)}${e.upper ? hex.toUpperCase() : hex}${extText}\r\n`;
  };
  let at = 0;
  let i = 0;
  while (at < body.length) {
    const want = e.sizes.length > 0 ? (e.sizes[i % e.sizes.length] as number) : body.length;
    const n = Math.min(want, body.length - at);
    parts.push(latin1(sizeLine(n, i)), body.subarray(at, at + n), latin1('\r\n'));
    at += n;
    i++;
  }
  const trailers = e.trailers.map(([name, value]) => `${name}: ${value}\r\n`).join('');
  parts.push(latin1(`${sizeLine(0, i)}${trailers}\r\n`));
  return Buffer.concat(parts);
}
