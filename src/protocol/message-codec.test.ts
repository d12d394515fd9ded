import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { encodeMessage, MessageDecoder } from './message-codec.js';
import { makeMessage, parseMessage, expectMessage } from './messages.js';
import { formatProvisioningKey, parseProvisioningKey } from './provisioning-key.js';

function chunked(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, buf.length]) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  return out;
}

test('messages survive any chunking of the byte stream', () => {
  fc.assert(
    fc.property(
      fc.array(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })), {
        minLength: 1,
        maxLength: 5,
      }),
      fc.array(fc.nat(), { maxLength: 10 }),
      (objects, cuts) => {
        const wire = Buffer.concat(objects.map((o) => encodeMessage(o)));
        const decoder = new MessageDecoder();
        const got: unknown[] = [];
        for (const piece of chunked(wire, cuts)) got.push(...decoder.push(piece).messages);
        assert.deepEqual(got, JSON.parse(JSON.stringify(objects)));
        assert.equal(decoder.buffered, 0);
      },
    ),
  );
});

test('random bytes never crash the message decoder and never buffer past the limit', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const decoder = new MessageDecoder({ maxBytes: 64 });
      try {
        decoder.push(Buffer.from(bytes));
      } catch (err) {
        assert.match((err as { code: string }).code, /^POSTERN_ERR_MESSAGE_/);
      }
      assert.ok(decoder.buffered <= 64);
    }),
  );
});

test('a declared length over the limit fails at once, before the body arrives', () => {
  const decoder = new MessageDecoder({ maxBytes: 1024 });
  const header = Buffer.alloc(4);
  header.writeUInt32BE(10_000_000);
  assert.throws(() => decoder.push(header), { code: 'POSTERN_ERR_MESSAGE_TOO_LARGE' });
  assert.throws(() => decoder.push(Buffer.from('x')), { code: 'POSTERN_ERR_MESSAGE_MALFORMED' });
});

test('push stops after the requested number of messages and returns the raw tail', () => {
  const wire = Buffer.concat([encodeMessage({ a: 1 }), Buffer.from('raw bytes')]);
  const { messages, rest } = new MessageDecoder().push(wire, 1);
  assert.deepEqual(messages, [{ a: 1 }]);
  assert.equal(rest.toString(), 'raw bytes');
});

test('known messages get defaults; unknown fields and unknown types are tolerated', () => {
  const dial = parseMessage({ v: 1, type: 'dial', target: 'db:5432', future: true });
  assert.equal(dial?.type, 'dial');
  assert.equal((dial as { timeoutMs: number }).timeoutMs, 10_000);
  assert.equal(parseMessage({ v: 1, type: 'from_the_future' }), undefined);
});

test('malformed known messages and other versions get coded errors', () => {
  assert.throws(() => parseMessage({ v: 1, type: 'dial' }), {
    code: 'POSTERN_ERR_MESSAGE_INVALID',
  });
  assert.throws(() => parseMessage({ v: 2, type: 'dial', target: 'a:1' }), {
    code: 'POSTERN_ERR_MESSAGE_VERSION',
  });
});

test('expectMessage turns a peer error message into a local error with the same code', () => {
  const err = makeMessage({ type: 'error', code: 'POSTERN_ERR_KEY_EXHAUSTED', message: 'used up' });
  assert.throws(() => expectMessage(err, 'enroll_result'), {
    code: 'POSTERN_ERR_KEY_EXHAUSTED',
    message: 'used up',
  });
});

test('provisioning keys round trip and malformed ones say what is wrong', () => {
  const value = { edgeAddress: '[::1]:8443', keyId: 'k1a2b3c4', secret: 'A'.repeat(43) };
  assert.deepEqual(parseProvisioningKey(formatProvisioningKey(value)), value);
  assert.deepEqual(parseProvisioningKey(` ${formatProvisioningKey(value)}\n`), value);
  assert.throws(() => parseProvisioningKey('garbage'), {
    code: 'POSTERN_ERR_KEY_MALFORMED',
    message: /three parts/,
  });
  assert.throws(() => parseProvisioningKey('2|a:1|k1a2b3c4.' + 'A'.repeat(20)), /version "2"/);
  assert.throws(() => parseProvisioningKey('1|nohost|k1a2b3c4.' + 'A'.repeat(20)), /host:port/);
  assert.throws(() => parseProvisioningKey('1|a:1|nodot'), /credential/);
});
