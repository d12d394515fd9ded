import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  USER_CODE_ALPHABET,
  formatUserCode,
  isDeviceCode,
  newDeviceCode,
  newUserCode,
  normalizeUserCode,
} from './device-codes.js';

test('user codes are 8 letters of the unambiguous alphabet, shown as XXXX-XXXX', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const code = newUserCode();
    assert.match(code, /^[BCDFGHJKLMNPQRSTVWXZ]{8}$/);
    assert.match(formatUserCode(code), /^[A-Z]{4}-[A-Z]{4}$/);
    seen.add(code);
  }
  assert.ok(seen.size > 190, `codes are random, got ${seen.size} distinct of 200`);
  assert.doesNotMatch(USER_CODE_ALPHABET, /[AEIOUY01]/, 'no vowels, no digits');
});

test('a typed user code is normalized: case, spaces and dashes do not matter', () => {
  assert.equal(normalizeUserCode('wdjb-mjht'), 'WDJBMJHT');
  assert.equal(normalizeUserCode(' WDJB MJHT '), 'WDJBMJHT');
  assert.equal(normalizeUserCode('WDJBMJHT'), 'WDJBMJHT');
  assert.equal(normalizeUserCode('WDJB-MJH'), undefined, 'too short');
  assert.equal(normalizeUserCode('WDJB-MJHTB'), undefined, 'too long');
  assert.equal(normalizeUserCode('WDJB-MJH0'), undefined, 'a digit');
  assert.equal(normalizeUserCode('WDJA-MJHT'), undefined, 'a vowel');
  assert.equal(normalizeUserCode('-'.repeat(40)), undefined);
});

test('every formatted user code normalizes back to itself', () => {
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(...USER_CODE_ALPHABET), { minLength: 8, maxLength: 8 }),
      (letters) => {
        const code = letters.join('');
        assert.equal(normalizeUserCode(formatUserCode(code)), code);
        assert.equal(normalizeUserCode(formatUserCode(code).toLowerCase()), code);
      },
    ),
  );
});

test('device codes carry 256 random bits and are recognized by shape', () => {
  const a = newDeviceCode();
  const b = newDeviceCode();
  assert.notEqual(a, b);
  assert.equal(Buffer.from(a, 'base64url').length, 32);
  assert.equal(isDeviceCode(a), true);
  assert.equal(isDeviceCode(`${a}x`), false);
  assert.equal(isDeviceCode('WDJB-MJHT'), false);
});
