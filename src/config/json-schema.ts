import { z } from 'zod';
import { documentSchema } from './document.js';

/**
 * The JSON Schema (draft 2020-12) of a configuration document as a person writes it: fields
 * with defaults are optional. Used for Helm's values.schema.json and the OpenAPI description.
 */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(documentSchema, { io: 'input', target: 'draft-2020-12' });
}
