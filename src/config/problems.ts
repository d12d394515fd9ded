/** One problem in a configuration, located in its source file. */
export interface ConfigProblem {
  /**
   * The document's file name; for an object created through the admin API its API path
   * (`/api/v1/pools/web`, with `line` 0); `<configuration>` when the object has no known source.
   */
  readonly file: string;
  /** 1-based line; 0 when unknown; absent when the problem is the file itself (unreadable). */
  readonly line?: number;
  /** 1-based column; 0 when unknown; absent with `line`. */
  readonly column?: number;
  /** Where in the document, e.g. `pools[0].nodes[1].address`; empty for the whole document. */
  readonly path: string;
  /** What is wrong, in words a person can act on. */
  readonly message: string;
  /** A more specific POSTERN_ERR_* code for this problem, e.g. a bad `valueFrom` reference. */
  readonly code?: string;
}

/** Path segments as zod and the yaml package use them. */
export type PathSegment = string | number;

const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Formats path segments as `pools[0].nodes[1].address`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (identifier.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** One line per problem: `file:line:column path: message`, ordered by file and position. */
export function formatProblems(problems: readonly ConfigProblem[]): string {
  return sortProblems(problems)
    .map((p) => {
      const where =
        p.line !== undefined && p.line > 0 ? `${p.file}:${p.line}:${p.column ?? 0}` : p.file;
      return `  ${where} ${p.path === '' ? '(document)' : p.path}: ${p.message}`;
    })
    .join('\n');
}

/** Problems ordered by file, line and column, so reports read top to bottom. */
export function sortProblems(problems: readonly ConfigProblem[]): ConfigProblem[] {
  return [...problems].sort(
    (a, b) =>
      a.file.localeCompare(b.file) ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0) ||
      a.path.localeCompare(b.path),
  );
}
