import { isMap, isNode, isScalar, LineCounter, parseDocument as parseYaml } from 'yaml';
import type { Document } from 'yaml';
import type { z } from 'zod';
import { deepFreeze } from './deep-freeze.js';
import { documentProblems } from './document-checks.js';
import type { ConfigDocument } from './document.js';
import { collectionNames, documentSchema } from './document.js';
import { ConfigErrors } from './errors.js';
import { issueMessage } from './issue-messages.js';
import { recordSource } from './object-source.js';
import type { SourcePosition } from './object-source.js';
import type { ConfigProblem, PathSegment } from './problems.js';
import { formatPath } from './problems.js';
import type { FileRefReader, ResolvedValues } from './value-from.js';
import { resolveValueFrom } from './value-from.js';

/** Options for parseDocument. */
export interface ParseDocumentOptions {
  /** Name reported in every problem, e.g. the path relative to the import root. */
  readonly fileName: string;
  /**
   * Reads the files that `valueFrom: { fileRef: { name } }` values name; default none, and
   * such values are reported as problems (only documents from a directory can use them).
   */
  readonly readFileRef?: FileRefReader | undefined;
}

/**
 * Parses a YAML or JSON configuration document, validates it and returns it deeply frozen with
 * defaults applied; throws POSTERN_ERR_CONFIG_INVALID listing every problem with its position.
 */
export function parseDocument(text: string, options: ParseDocumentOptions): ConfigDocument {
  const file = options.fileName;
  const lineCounter = new LineCounter();
  const doc = parseYaml(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const position = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  if (doc.errors.length > 0) {
    // The tree of a document with syntax errors is a guess; checking it would only add noise.
    throw ConfigErrors.invalid(
      doc.errors.map((e) => ({ file, ...position(e.pos[0]), path: '', message: e.message })),
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw ConfigErrors.invalid([{ file, line: 1, column: 1, path: '', message: String(err) }]);
  }
  const locator = new NodeLocator(doc, position);
  const resolved = resolveValueFrom(raw, options.readFileRef);
  const result = documentSchema.safeParse(resolved.value, { error: issueMessage });
  const problems = [
    ...resolved.problems.map((p) => ({
      ...problem(file, locator.locate(p.path), p.path, p.message),
      code: p.code,
    })),
    ...schemaProblems(result.error?.issues ?? [], resolved).flatMap((issue) =>
      issueProblems(issue, file, locator),
    ),
    ...documentProblems(resolved.value).map((p) =>
      problem(file, locator.locate(p.path), p.path, p.message),
    ),
  ];
  if (!result.success || problems.length > 0) throw ConfigErrors.invalid(problems);
  const frozen = deepFreeze(result.data);
  for (const collection of collectionNames) {
    frozen[collection].forEach((object, index) => {
      const path = [collection, index];
      recordSource(object, {
        file,
        path,
        locate: (relative) => locator.locate([...path, ...relative]),
        fileRef: (relative) =>
          resolved.references.find((r) => sameSegments(r.path, [...path, ...relative]))?.name,
      });
    });
  }
  return frozen;
}

/**
 * Schema issues, without those on fields whose reference could not be read (already reported)
 * and naming the file a field's value came from, so the reader knows where to look.
 */
function schemaProblems(
  issues: readonly z.core.$ZodIssue[],
  resolved: ResolvedValues,
): z.core.$ZodIssue[] {
  return issues
    .filter((issue) => !resolved.problems.some((p) => startsWith(issue.path, p.field)))
    .map((issue) => {
      const ref = resolved.references.find((r) => startsWith(issue.path, r.path));
      return ref === undefined
        ? issue
        : { ...issue, message: `${issue.message} (value read from "${ref.name}")` };
    });
}

function startsWith(path: readonly PropertyKey[], prefix: readonly PathSegment[]): boolean {
  return prefix.length <= path.length && prefix.every((segment, i) => path[i] === segment);
}

function sameSegments(a: readonly PathSegment[], b: readonly PathSegment[]): boolean {
  return a.length === b.length && startsWith(a, b);
}

function issueProblems(issue: z.core.$ZodIssue, file: string, at: NodeLocator): ConfigProblem[] {
  const path = issue.path.filter((s): s is PathSegment => typeof s !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) =>
      problem(
        file,
        at.locateKey(path, key),
        [...path, key],
        `unknown field "${key}"; remove it or correct its spelling`,
      ),
    );
  }
  return [problem(file, at.locate(path), path, issue.message)];
}

function problem(
  file: string,
  at: SourcePosition,
  path: readonly PathSegment[],
  message: string,
): ConfigProblem {
  return { file, line: at.line, column: at.column, path: formatPath(path), message };
}

/** Finds the source position of a path in a parsed YAML document. */
class NodeLocator {
  constructor(
    private readonly doc: Document.Parsed,
    private readonly position: (offset: number) => SourcePosition,
  ) {}

  /** The position of the node at `path`, or of its nearest existing ancestor (missing fields). */
  locate(path: readonly PathSegment[]): SourcePosition {
    for (let n = path.length; n > 0; n--) {
      const node: unknown = this.doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) return this.position(node.range[0]);
    }
    const root = this.doc.contents;
    return root?.range ? this.position(root.range[0]) : { line: 1, column: 1 };
  }

  /** The position of the key `key` in the mapping at `path`. */
  locateKey(path: readonly PathSegment[], key: string): SourcePosition {
    const map: unknown = path.length === 0 ? this.doc.contents : this.doc.getIn(path, true);
    if (isMap(map)) {
      const pair = map.items.find((p) => isScalar(p.key) && p.key.value === key);
      if (pair && isNode(pair.key) && pair.key.range) return this.position(pair.key.range[0]);
    }
    return this.locate(path);
  }
}
