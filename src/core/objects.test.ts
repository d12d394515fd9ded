import { test } from 'node:test';
import assert from 'node:assert/strict';
import { definedProps } from './objects.js';

test('definedProps drops undefined values and keeps every other value, falsy ones included', () => {
  const out = definedProps({ a: 1, b: undefined, c: 0, d: '', e: null, f: false });
  assert.deepEqual(out, { a: 1, c: 0, d: '', e: null, f: false });
  assert.equal(Object.hasOwn(out, 'b'), false);
});
