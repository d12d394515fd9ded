import type { PathSegment } from './problems.js';

/** A position in a source file; 1-based. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/** Where a configuration object came from, kept so later checks can point at its file and line. */
export interface ObjectSource {
  readonly file: string;
  /** The object's path in its document, e.g. `['pools', 2]`. */
  readonly path: readonly PathSegment[];
  /** The position of a field of the object, or of the nearest enclosing node that exists. */
  locate(relative: readonly PathSegment[]): SourcePosition;
  /** The file a field's value was read from through `valueFrom`, if it was. */
  fileRef(relative: readonly PathSegment[]): string | undefined;
}

// Keyed by the frozen object itself, so merging (which reuses objects) keeps the link for free
// and objects made elsewhere (the admin API) simply have no source.
const sources = new WeakMap<object, ObjectSource>();

/** Remembers where `object` was parsed from. */
export function recordSource(object: object, source: ObjectSource): void {
  sources.set(object, source);
}

/** Where a configuration object was parsed from, or undefined for objects not from a document. */
export function sourceOf(object: object): ObjectSource | undefined {
  return sources.get(object);
}
