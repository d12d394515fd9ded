import { z } from 'zod';
import { documentSchema } from './document.js';

type Node = Record<string, unknown>;

/** JSON Schema of `{ valueFrom: { fileRef: { name } } }`, the form any text value may take. */
const valueFromDefinition: Node = {
  type: 'object',
  description: 'Read this value from a file relative to the configuration directory.',
  properties: {
    valueFrom: {
      type: 'object',
      properties: {
        fileRef: {
          type: 'object',
          properties: {
            name: {
              type: 'string',
              description: 'Path relative to the configuration directory, without "..".',
              minLength: 1,
            },
          },
          required: ['name'],
          additionalProperties: false,
        },
      },
      required: ['fileRef'],
      additionalProperties: false,
    },
  },
  required: ['valueFrom'],
  additionalProperties: false,
};

/**
 * The JSON Schema (draft 2020-12) of a configuration document as a person writes it: fields
 * with defaults are optional, and every text value may instead be a `valueFrom` file
 * reference. Used for Helm's values.schema.json and the OpenAPI description.
 */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(documentSchema, { io: 'input', target: 'draft-2020-12' });
  const root = allowValueFrom(schema) as Node;
  const defs = (root['$defs'] ?? {}) as Node;
  return { ...root, $defs: { ...defs, valueFrom: valueFromDefinition } };
}

/** Rewrites every free-text `type: string` node as "that string, or a valueFrom reference". */
function allowValueFrom(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(allowValueFrom);
  if (typeof node !== 'object' || node === null) return node;
  const copy = Object.fromEntries(
    Object.entries(node).map(([key, value]) => [key, allowValueFrom(value)]),
  );
  // Enumerations and constants stay plain: a file holding a keyword helps nobody.
  if (copy['type'] !== 'string' || 'const' in copy || 'enum' in copy) return copy;
  const { description, default: fallback, ...text } = copy;
  return {
    ...(description === undefined ? {} : { description }),
    ...(fallback === undefined ? {} : { default: fallback }),
    anyOf: [text, { $ref: '#/$defs/valueFrom' }],
  };
}
