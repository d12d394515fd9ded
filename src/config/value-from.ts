import { isPosternError } from '../core/index.js';
import { FILE_REF_CODE } from './errors.js';
import type { PathSegment } from './problems.js';

/**
 * Reads a file named by a `valueFrom.fileRef` (already checked by `fileRefProblem`) relative
 * to the import root and returns its text; throws a PosternError saying why it cannot.
 */
export type FileRefReader = (name: string) => string;

/** A problem found while resolving `valueFrom` references. */
export interface ValueFromProblem {
  /** The field that holds the reference. */
  readonly field: readonly PathSegment[];
  /** Where exactly the problem is, at or below `field`. */
  readonly path: readonly PathSegment[];
  readonly message: string;
  readonly code: string;
}

/** The document with every reference replaced by the referenced file's text. */
export interface ResolvedValues {
  readonly value: unknown;
  readonly problems: readonly ValueFromProblem[];
  /** Each resolved field's path and the file it was read from. */
  readonly references: readonly { readonly path: readonly PathSegment[]; readonly name: string }[];
}

const FORM =
  'write it as valueFrom: { fileRef: { name: <path relative to the configuration directory> } }';

/**
 * The reason `name` cannot name a file under the import root, or undefined when it can:
 * relative, no `..` segment, no backslash or NUL. (Symbolic links are checked by the reader.)
 */
export function fileRefProblem(name: string): string | undefined {
  if (name === '') return 'the file name is empty';
  if (name.length > 1024) return 'the file name is longer than 1024 characters';
  if (name.includes('\0')) return 'the file name contains a NUL character';
  if (name.includes('\\')) return `"${name}" contains "\\"; separate directories with "/"`;
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) {
    return `"${name}" is absolute; name the file relative to the configuration directory`;
  }
  if (name.split('/').includes('..')) {
    return `"${name}" climbs out with ".."; only files inside the configuration directory can be referenced`;
  }
  return undefined;
}

/** `name` with empty and `.` segments removed, so one file has one name. */
export function normalizeFileRef(name: string): string {
  return name
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .join('/');
}

/**
 * Replaces every `{ valueFrom: { fileRef: { name } } }` mapping in a parsed document with the
 * text of the named file, so that any string field can come from a file (a mounted Secret or
 * ConfigMap key). Without `read`, references are reported as unavailable.
 */
export function resolveValueFrom(raw: unknown, read: FileRefReader | undefined): ResolvedValues {
  const problems: ValueFromProblem[] = [];
  const references: { path: readonly PathSegment[]; name: string }[] = [];
  const walk = (value: unknown, path: PathSegment[]): unknown => {
    if (Array.isArray(value)) return value.map((item, i) => walk(item, [...path, i]));
    if (!isRecord(value)) return value;
    if (!('valueFrom' in value)) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, [...path, k])]));
    }
    const result = resolveOne(value, path, read);
    if ('problem' in result) {
      problems.push({ ...result.problem, field: path, code: FILE_REF_CODE });
      return value;
    }
    references.push({ path, name: result.name });
    return result.text;
  };
  const value = walk(raw, []);
  return { value, problems, references };
}

type Resolution =
  | { readonly text: string; readonly name: string }
  | { readonly problem: { readonly path: PathSegment[]; readonly message: string } };

function resolveOne(
  mapping: Record<string, unknown>,
  path: PathSegment[],
  read: FileRefReader | undefined,
): Resolution {
  const fail = (at: PathSegment[], message: string): Resolution => ({
    problem: { path: at, message },
  });
  const extra = Object.keys(mapping).filter((k) => k !== 'valueFrom');
  if (extra.length > 0) {
    return fail(
      path,
      `valueFrom must be the only key of its mapping (also found: ${extra.join(', ')})`,
    );
  }
  const valueFrom = mapping['valueFrom'];
  const fileRef = isRecord(valueFrom) ? valueFrom['fileRef'] : undefined;
  if (!isRecord(valueFrom) || Object.keys(valueFrom).length !== 1 || !isRecord(fileRef)) {
    return fail([...path, 'valueFrom'], `valueFrom supports fileRef only; ${FORM}`);
  }
  const name = fileRef['name'];
  const namePath = [...path, 'valueFrom', 'fileRef', 'name'];
  if (typeof name !== 'string' || Object.keys(fileRef).length !== 1) {
    return fail(
      [...path, 'valueFrom', 'fileRef'],
      `fileRef takes exactly one field, name; ${FORM}`,
    );
  }
  const problem = fileRefProblem(name);
  if (problem !== undefined) return fail(namePath, problem);
  if (read === undefined) {
    return fail(
      namePath,
      'valueFrom file references resolve only in documents read from a configuration directory',
    );
  }
  const normalized = normalizeFileRef(name);
  try {
    return { text: read(normalized), name: normalized };
  } catch (err) {
    return fail(
      namePath,
      isPosternError(err) ? err.message : `cannot read "${normalized}": ${String(err)}`,
    );
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
