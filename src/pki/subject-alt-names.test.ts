import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAltNames } from './subject-alt-names.js';

test('splits node subjectAltName text into typed entries', () => {
  assert.deepEqual(parseAltNames('URI:urn:a:b, DNS:x.example, IP Address:0:0:0:0:0:0:0:1'), [
    { type: 'URI', value: 'urn:a:b' },
    { type: 'DNS', value: 'x.example' },
    { type: 'IP Address', value: '0:0:0:0:0:0:0:1' },
  ]);
  assert.deepEqual(parseAltNames(''), []);
});

test('keeps a quoted value with commas and escapes as one entry', () => {
  assert.deepEqual(parseAltNames('URI:"a, URI:b \\"c\\"", URI:d'), [
    { type: 'URI', value: 'a, URI:b "c"' },
    { type: 'URI', value: 'd' },
  ]);
});

test('throws on text that is not in node format', () => {
  for (const bad of ['no type here', 'URI:"unterminated', 'URI:"a"junk, URI:b']) {
    assert.throws(() => parseAltNames(bad), SyntaxError, bad);
  }
});
