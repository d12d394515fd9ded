import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonSyntaxError } from './json-syntax.js';

test('valid JSON has no syntax error', () => {
  for (const text of ['{}', ' [1, -2.5e3, "a\\n\\u00e9", true, null] ', '{"a": {"b": []}}']) {
    assert.equal(jsonSyntaxError(text), undefined, text);
  }
});

test('the first syntax error is found with its offset, also where JSON.parse gives none', () => {
  const cases: [string, number, RegExp][] = [
    ['{"a": 1,}', 7, /trailing comma before '}'/],
    ['[1, 2,]', 5, /trailing comma before ']'/],
    ['{"a":}', 5, /expected a value/],
    ['{"a": tru}', 6, /expected a value/],
    ["{'a': 1}", 1, /property name in double quotes/],
    ['{"a" 1}', 5, /expected ':'/],
    ['[1 2]', 3, /expected ',' or ']'/],
    ['{"a": 1} x', 9, /nothing may follow/],
    ['{"a": "x', 6, /string is not closed/],
    ['{"a": "\\q"}', 7, /invalid escape/],
    ['# comment\n{}', 0, /expected a value/],
    ['', 0, /text ends where a value was expected/],
  ];
  for (const [text, offset, message] of cases) {
    const found = jsonSyntaxError(text);
    assert.equal(found?.offset, offset, text);
    assert.match(found?.message ?? '', message, text);
  }
});
