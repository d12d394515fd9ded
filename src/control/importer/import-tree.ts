import { createHash } from 'node:crypto';
import {
  ConfigErrors,
  inspectDocuments,
  mergeDocumentParts,
  mergeDocuments,
  referenceProblems,
  sourceOf,
  collectionNames,
} from '../../config/index.js';
import type {
  ConfigDocument,
  ConfigProblem,
  Configuration,
  DocumentParse,
  DocumentParts,
} from '../../config/index.js';
import type { PosternError } from '../../core/index.js';
import { certificateProblems } from './certificate-check.js';
import type { ConfigTree, TreeLimits } from './config-tree.js';
import { readConfigTree } from './config-tree.js';
import { importerErrors } from './errors.js';
import { FileRefReader } from './file-ref-reader.js';

/** A configuration read from a directory, validated as a whole. */
export interface ImportedConfiguration {
  readonly config: Configuration;
  /** Documents it was made of, relative to the root, in import order. */
  readonly files: readonly string[];
  /** Files read through `valueFrom`, relative to the root. */
  readonly referencedFiles: readonly string[];
  /** Objects a later document replaced, as `collection "name": later overrides earlier`. */
  readonly overrides: readonly DocumentOverride[];
}

/** One object of a document replaced by a later document's object of the same name. */
export interface DocumentOverride {
  readonly collection: string;
  readonly name: string;
  /** The file of the object in force. */
  readonly file: string;
  /** The file of the object it replaced (may be the same file, for two YAML documents). */
  readonly overridden: string;
}

/** A read of the tree, before any parsing: what is there and its fingerprint. */
export interface TreeRead {
  readonly tree: ConfigTree;
  readonly reader: FileRefReader;
  /** Hash of every document's name and text and of the given referenced files' contents. */
  readonly fingerprint: string;
}

/**
 * Reads the tree and fingerprints it, including the files the previous import referenced
 * (a changed certificate must trigger an import although no document changed). Throws
 * POSTERN_ERR_CONFIG_DIR when the directory cannot be read.
 */
export async function readTree(
  root: string,
  options: { readonly references?: readonly string[]; readonly limits?: TreeLimits } = {},
): Promise<TreeRead> {
  const tree = await readConfigTree(root, options.limits);
  const reader = new FileRefReader(root, tree.realRoot);
  return { tree, reader, fingerprint: fingerprintTree(tree, reader, options.references ?? []) };
}

/**
 * A hash of every document's name and text, the tree's problems and the named referenced
 * files' contents (read through `reader`, which caches, so hashing twice reads once).
 */
export function fingerprintTree(
  tree: ConfigTree,
  reader: FileRefReader,
  references: readonly string[],
): string {
  const hash = createHash('sha256');
  for (const doc of tree.documents) hash.update(`d\0${doc.name}\0${doc.text}\0`);
  for (const problem of tree.problems) hash.update(`p\0${problem.file}\0${problem.message}\0`);
  for (const name of [...references].sort()) {
    let content: string;
    try {
      content = `t\0${reader.read(name)}`;
    } catch (err) {
      content = `e\0${String(err)}`;
    }
    hash.update(`r\0${name}\0${content}\0`);
  }
  return hash.digest('hex');
}

/** The outcome of evaluating a tree: a configuration, or the error that explains why not. */
export type Evaluation =
  | ({ readonly ok: true } & ImportedConfiguration)
  | {
      readonly ok: false;
      readonly error: PosternError;
      readonly files: readonly string[];
      readonly referencedFiles: readonly string[];
    };

/**
 * Parses every document of a read tree, merges them and validates the whole: syntax, schema,
 * references, listen clashes and certificate/key pairs, every problem of every file in one
 * report. When some documents or objects have schema problems, the objects that passed are
 * still checked against each other, and a name declared by an object with problems counts as
 * existing (so no reference to it is reported missing). A file that a document reads through
 * `valueFrom` is data, not a document, even when its name ends in .json or .yaml. With
 * `external`, a name no document defines may exist where the configuration is applied
 * (created through the admin API): references to it are left to that merged check.
 */
export function evaluateTree(
  read: TreeRead,
  options: { readonly external?: boolean } = {},
): Evaluation {
  const external = options.external ?? false;
  const referenced = new Set<string>();
  const readFileRef = (name: string): string => {
    referenced.add(name);
    return read.reader.read(name);
  };
  // A file may hold several YAML documents: each is merged as if it were a file of its own.
  const parsed = read.tree.documents.map((doc) =>
    inspectDocuments(doc.text, { fileName: doc.name, readFileRef }),
  );
  const dataFiles = new Set(
    read.reader
      .entries()
      .filter((e) => referenced.has(e.name))
      .flatMap((e) => (e.realPath === undefined ? [] : [e.realPath])),
  );
  const used = parsed.filter((_, i) => !dataFiles.has(read.tree.documents[i]!.realPath)).flat();
  const files = read.tree.documents
    .filter((doc) => !dataFiles.has(doc.realPath))
    .map((doc) => doc.name);
  const referencedFiles = [...referenced].sort();
  const fail = (error: PosternError): Evaluation => ({ ok: false, error, files, referencedFiles });
  const syntax = [...read.tree.problems, ...used.flatMap((p) => p.problems)];
  if (syntax.length > 0) {
    return fail(ConfigErrors.invalid([...syntax, ...partialProblems(read, used, external)]));
  }
  const docs = used.flatMap((p) => (p.doc === undefined ? [] : [p.doc]));
  const config = mergeDocuments(docs);
  const references = referenceProblems(config, { external });
  const certificates = certificateProblems(config);
  if (references.length > 0) return fail(ConfigErrors.references([...references, ...certificates]));
  if (certificates.length > 0) return fail(importerErrors.certificates(certificates));
  return { ok: true, config, files, referencedFiles, overrides: documentOverrides(docs) };
}

/** Each object replaced by a later document's object of the same name, in import order. */
function documentOverrides(docs: readonly ConfigDocument[]): DocumentOverride[] {
  const overrides: DocumentOverride[] = [];
  for (const collection of collectionNames) {
    const seen = new Map<string, object>();
    for (const doc of docs) {
      for (const object of doc[collection] as readonly { readonly name: string }[]) {
        const earlier = seen.get(object.name);
        seen.set(object.name, object);
        if (earlier === undefined) continue;
        const file = sourceOf(object)?.file ?? '?';
        const overridden = sourceOf(earlier)?.file ?? '?';
        overrides.push({ collection, name: object.name, file, overridden });
      }
    }
  }
  return overrides;
}

/**
 * Reference, listen-clash and certificate problems among the objects that passed the schema,
 * each tagged with its own code, as the schema problems beside them decide the error's code.
 * None when some document's objects cannot be known (a syntax error, an unreadable file): any
 * name might be declared there, so a reference could not be called missing.
 */
function partialProblems(
  read: TreeRead,
  used: readonly DocumentParse[],
  external: boolean,
): ConfigProblem[] {
  if (read.tree.problems.length > 0) return [];
  const parts: DocumentParts[] = [];
  for (const p of used) {
    if (p.parts === undefined) return [];
    parts.push(p.parts);
  }
  const { config, declared } = mergeDocumentParts(parts);
  return [
    ...tagged(referenceProblems(config, { declared, external }), 'POSTERN_ERR_CONFIG_REFERENCE'),
    ...tagged(certificateProblems(config), 'POSTERN_ERR_CONFIG_CERTIFICATE'),
  ];
}

function tagged(problems: readonly ConfigProblem[], code: string): ConfigProblem[] {
  return problems.map((p) => ({ ...p, code: p.code ?? code }));
}

/**
 * Reads, parses and validates a configuration directory once; throws the coded error
 * (POSTERN_ERR_CONFIG_INVALID, _REFERENCE, _CERTIFICATE or _DIR) listing every problem.
 */
export async function importConfigTree(
  root: string,
  options: { readonly limits?: TreeLimits } = {},
): Promise<ImportedConfiguration> {
  const result = evaluateTree(await readTree(root, options));
  if (!result.ok) throw result.error;
  return result;
}
