import {
  isMap,
  isNode,
  isScalar,
  LineCounter,
  parseAllDocuments,
  parseDocument as parseYaml,
} from 'yaml';
import type { Document } from 'yaml';
import type { z } from 'zod';
import { deepFreeze } from './deep-freeze.js';
import { documentProblems } from './document-checks.js';
import type { ConfigDocument } from './document.js';
import { collectionNames, documentSchema } from './document.js';
import { ConfigErrors } from './errors.js';
import type { DocumentParts } from './document-parts.js';
import { partsOf, salvageParts } from './document-parts.js';
import { issueMessage } from './issue-messages.js';
import { jsonSyntaxError } from './json-syntax.js';
import { shapeKeys, unknownKeyMessage } from './key-suggestions.js';
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

/** The outcome of reading one document without throwing. */
export interface DocumentParse {
  /** The validated, frozen document; undefined when it has any problem. */
  readonly doc: ConfigDocument | undefined;
  /** Every problem of the document, with its position; empty when `doc` is defined. */
  readonly problems: readonly ConfigProblem[];
  /**
   * Every object the document declares, and those that passed the schema, so that references
   * can be checked in the same round as schema problems; undefined when the document's objects
   * cannot be known (a syntax error, a collection that is not a list).
   */
  readonly parts: DocumentParts | undefined;
}

/**
 * Parses a YAML or JSON configuration document, validates it and returns it deeply frozen with
 * defaults applied; throws POSTERN_ERR_CONFIG_INVALID listing every problem with its position.
 */
export function parseDocument(text: string, options: ParseDocumentOptions): ConfigDocument {
  const result = inspectDocument(text, options);
  if (result.doc === undefined) throw ConfigErrors.invalid(result.problems);
  return result.doc;
}

/**
 * Parses and validates a document like `parseDocument`, but returns its problems instead of
 * throwing, along with the objects that passed the schema when the document as a whole did not.
 * A file named `*.json` must be strict JSON. Text holding several YAML documents (`---`) is
 * refused here, at the second document; `inspectDocuments` reads them all.
 */
export function inspectDocument(text: string, options: ParseDocumentOptions): DocumentParse {
  const file = options.fileName;
  const lineCounter = new LineCounter();
  const position = positionIn(lineCounter);
  if (isJsonFile(file)) {
    // Parsing the text registers its lines with the counter before any position is asked.
    const doc = parseYaml(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
    const bom = text.startsWith('\uFEFF') ? 1 : 0;
    const bad = jsonSyntaxError(text.slice(bom));
    if (bad !== undefined) {
      const at = position(bad.offset + bom);
      // Editors do not show a byte order mark, so it takes no column.
      const column = at.line === 1 ? at.column - bom : at.column;
      const message = `not valid JSON: ${bad.message}`;
      return unreadable([{ file, line: at.line, column, path: '', message }]);
    }
    return inspectParsed(doc, position, options);
  }
  const doc = parseYaml(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  return inspectParsed(doc, position, options);
}

/**
 * Every document of a YAML stream (documents separated by `---` lines), in order, each parsed
 * and validated like `inspectDocument`, so the importer merges them like separate files (as
 * `kubectl apply -f` reads every document of a file). Empty documents are skipped; problems
 * carry line numbers of the whole file. A `*.json` file is one strict JSON document.
 */
export function inspectDocuments(text: string, options: ParseDocumentOptions): DocumentParse[] {
  if (isJsonFile(options.fileName)) return [inspectDocument(text, options)];
  const lineCounter = new LineCounter();
  const stream = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (!Array.isArray(stream) || stream.length <= 1) return [inspectDocument(text, options)];
  const position = positionIn(lineCounter);
  return stream
    .filter((doc) => doc.errors.length > 0 || !isEmptyDocument(doc))
    .map((doc) => inspectParsed(doc, position, options));
}

/** A document of only comments (or `~`): skipped in a stream, as kubectl skips it. */
function isEmptyDocument(doc: Document.Parsed): boolean {
  return doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null);
}

function isJsonFile(file: string): boolean {
  return file.toLowerCase().endsWith('.json');
}

function positionIn(lineCounter: LineCounter): (offset: number) => SourcePosition {
  return (offset) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
}

function unreadable(problems: ConfigProblem[]): DocumentParse {
  return { doc: undefined, problems, parts: undefined };
}

function inspectParsed(
  doc: Document.Parsed,
  position: (offset: number) => SourcePosition,
  options: ParseDocumentOptions,
): DocumentParse {
  const file = options.fileName;
  if (doc.errors.length > 0) {
    // The tree of a document with syntax errors is a guess; checking it would only add noise.
    return unreadable(
      doc.errors.map((e) => ({
        file,
        ...position(e.pos[0]),
        path: '',
        message:
          e.code === 'MULTIPLE_DOCS'
            ? 'a second YAML document starts here (---); only one document is accepted here, while files in a configuration directory may hold several'
            : e.message,
      })),
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return unreadable([{ file, line: 1, column: 1, path: '', message: String(err) }]);
  }
  return validate(raw, new NodeLocator(doc, position), options);
}

/** A problem before formatting, with its path as segments to tell which object it is in. */
interface Located {
  readonly segments: readonly PathSegment[];
  readonly problem: ConfigProblem;
}

function validate(
  raw: unknown,
  locator: NodeLocator,
  options: ParseDocumentOptions,
): DocumentParse {
  const file = options.fileName;
  const resolved = resolveValueFrom(raw, options.readFileRef);
  const allowed = new AllowedKeys();
  const result = documentSchema.safeParse(resolved.value, { error: allowed.errorMap });
  const located: Located[] = [
    ...resolved.problems.map((p) => ({
      segments: p.path,
      problem: { ...problem(file, locator.locate(p.path), p.path, p.message), code: p.code },
    })),
    ...schemaProblems(result.error?.issues ?? [], resolved).flatMap((issue) =>
      issueProblems(issue, { file, at: locator, allowed }),
    ),
    ...documentProblems(resolved.value).map((p) => ({
      segments: p.path,
      problem: problem(file, locator.locate(p.path), p.path, p.message),
    })),
  ];
  const record = (object: object, path: readonly PathSegment[]): void =>
    recordSource(object, {
      file,
      path,
      locate: (relative) => locator.locate([...path, ...relative]),
      fileRef: (relative) =>
        resolved.references.find((r) => sameSegments(r.path, [...path, ...relative]))?.name,
    });
  if (result.success && located.length === 0) {
    const frozen = deepFreeze(result.data);
    for (const collection of collectionNames) {
      frozen[collection].forEach((object, index) => record(object, [collection, index]));
    }
    return { doc: frozen, problems: [], parts: partsOf(frozen) };
  }
  const parts = salvageParts(resolved.value, {
    faulted: (path) => located.some((l) => startsWith(l.segments, path)),
    parsed: record,
  });
  return { doc: undefined, problems: located.map((l) => l.problem), parts };
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

function issueProblems(
  issue: z.core.$ZodIssue,
  context: { readonly file: string; readonly at: NodeLocator; readonly allowed: AllowedKeys },
): Located[] {
  const { file, at, allowed } = context;
  const path = issue.path.filter((s): s is PathSegment => typeof s !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      segments: [...path, key],
      problem: problem(
        file,
        at.locateKey(path, key),
        [...path, key],
        unknownKeyMessage(key, allowed.at(path)),
      ),
    }));
  }
  return [{ segments: path, problem: problem(file, at.locate(path), path, issue.message) }];
}

/**
 * The keys each mapping allows, noted while zod reports its unknown keys: zod's issue names the
 * unknown keys only, but the schema that raised it (passed to the error map) knows its shape.
 */
class AllowedKeys {
  readonly #byPath = new Map<string, readonly string[]>();

  /** A zod error map that notes allowed keys and words zod's built-in issues plainly. */
  readonly errorMap = (issue: z.core.$ZodRawIssue): string | undefined => {
    if (issue.code === 'unrecognized_keys') {
      const present = isRecord(issue.input) ? issue.input : {};
      const shape = shapeKeys(issue.inst).filter((key) => !(key in present));
      const key = pathKey(issue.path ?? []);
      const seen = this.#byPath.get(key);
      // Branches of a union report one mapping against different shapes; suggesting a key
      // of one of them would be a guess, so such a mapping gets no suggestion.
      const same = seen === undefined || seen.join('\0') === shape.join('\0');
      this.#byPath.set(key, same ? shape : []);
    }
    return issueMessage(issue);
  };

  /** The keys the mapping at `path` allows and does not already have. */
  at(path: readonly PathSegment[]): readonly string[] {
    return this.#byPath.get(pathKey(path)) ?? [];
  }
}

function pathKey(path: readonly PropertyKey[]): string {
  return JSON.stringify(path.map((s) => (typeof s === 'symbol' ? '' : s)));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
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
