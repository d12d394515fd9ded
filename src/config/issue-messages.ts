import type { z } from 'zod';
import { shapeKeys, unknownKeyMessage } from './key-suggestions.js';

type RawIssue = z.core.$ZodRawIssue;

/**
 * Plain-language messages for zod's built-in issues, passed per parse so schema-level custom
 * messages still win and zod's global configuration is left alone.
 */
export function issueMessage(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${article(expectedName(issue.expected))}, not ${describe(issue.input)}`;
    case 'too_small':
      return boundMessage('at least', issue.origin, issue.minimum, issue.inclusive);
    case 'too_big':
      return boundMessage('at most', issue.origin, issue.maximum, issue.inclusive);
    case 'unrecognized_keys':
      return unknownKeysMessage(issue.keys, issue.inst, issue.input);
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}`
        : `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return undefined;
  }
}

/** Each unknown key of one mapping, with the allowed key it most likely misspells. */
function unknownKeysMessage(keys: readonly string[], schema: unknown, input: unknown): string {
  const present = typeof input === 'object' && input !== null ? input : {};
  const allowed = shapeKeys(schema).filter((key) => !(key in present));
  return keys.map((key) => unknownKeyMessage(key, allowed)).join('; ');
}

// Names the YAML author sees: "mapping" and "list" rather than JavaScript's object and array.
const expectedNames: Record<string, string> = {
  int: 'whole number',
  object: 'mapping',
  array: 'list',
};

function expectedName(expected: string): string {
  return expectedNames[expected] ?? expected;
}

function article(noun: string): string {
  return /^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`;
}

/** Names a value's kind for a message, quoting short scalars so the reader finds them. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number') {
    return Number.isInteger(value) ? `the number ${value}` : `the fraction ${value}`;
  }
  if (typeof value === 'string') {
    return value.length <= 40 ? `the text ${JSON.stringify(value)}` : 'a text';
  }
  if (typeof value === 'object') return 'a mapping';
  return typeof value === 'boolean' ? `the boolean ${value}` : typeof value;
}

function boundMessage(
  word: 'at least' | 'at most',
  origin: string,
  bound: number | bigint,
  inclusive: boolean | undefined,
): string | undefined {
  const exclusive = inclusive === false;
  switch (origin) {
    case 'number':
    case 'int':
      return exclusive
        ? `must be ${word === 'at least' ? 'greater' : 'less'} than ${bound}`
        : `must be ${word} ${bound}`;
    case 'array':
    case 'set':
      return `must have ${word} ${bound} item${bound === 1 ? '' : 's'}`;
    case 'string':
      return `must be ${word} ${bound} character${bound === 1 ? '' : 's'} long`;
    default:
      return undefined;
  }
}
