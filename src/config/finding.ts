import type { PathSegment } from './problems.js';

/** A cross-reference problem on one field of one object of a merged configuration. */
export interface Finding {
  readonly object: object;
  /** The object's path in the merged configuration, used when it has no source document. */
  readonly path: readonly PathSegment[];
  /** The field at fault, relative to the object. */
  readonly field: readonly PathSegment[];
  readonly message: string;
}
