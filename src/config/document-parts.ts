import { deepFreeze } from './deep-freeze.js';
import type {
  CollectionName,
  CollectionObject,
  ConfigDocument,
  Configuration,
} from './document.js';
import { collectionNames, collectionSchemas, DOCUMENT_VERSION } from './document.js';
import { issueMessage } from './issue-messages.js';
import type { PathSegment } from './problems.js';

/** One object a document declares: its name and, when its body passed the schema, the object. */
export interface DeclaredObject<T = CollectionObject<CollectionName>> {
  readonly name: string;
  /** Undefined when the object has a problem of its own: its name exists, its body is unknown. */
  readonly object: T | undefined;
}

/** The objects of one document by collection, including those whose body has problems. */
export type DocumentParts = {
  readonly [C in CollectionName]: readonly DeclaredObject<CollectionObject<C>>[];
};

/** Names declared per collection, whether or not their objects passed the schema. */
export type DeclaredNames = ReadonlyMap<CollectionName, ReadonlySet<string>>;

/** A configuration made of the objects that passed the schema, and every name declared. */
export interface PartialConfiguration {
  /** The objects whose final definition (the last document's) passed the schema. */
  readonly config: Configuration;
  readonly declared: DeclaredNames;
}

/** The parts of a document that has no problem: every object, declared and valid. */
export function partsOf(doc: ConfigDocument): DocumentParts {
  const parts: Record<string, readonly DeclaredObject[]> = {};
  for (const c of collectionNames) {
    parts[c] = (doc[c] as readonly CollectionObject<CollectionName>[]).map((object) => ({
      name: object.name,
      object,
    }));
  }
  return parts as DocumentParts;
}

/** What salvaging the objects of a document with problems needs. */
export interface SalvageOptions {
  /** True when a problem was reported at or below this path (the object is not trusted). */
  readonly faulted: (path: readonly PathSegment[]) => boolean;
  /** Called with each object that passed the schema, to record where it came from. */
  readonly parsed: (object: object, path: readonly PathSegment[]) => void;
}

/**
 * The objects of a document that did not pass as a whole: each named entry is declared, and
 * those without a problem of their own are parsed with their collection's schema. Undefined when
 * a collection is not a list, so which names it declares cannot be known.
 */
export function salvageParts(raw: unknown, options: SalvageOptions): DocumentParts | undefined {
  const parts: Record<string, readonly DeclaredObject[]> = {};
  const document = isRecord(raw) ? raw : {};
  for (const c of collectionNames) {
    const list = document[c] ?? [];
    if (!Array.isArray(list)) return undefined;
    parts[c] = list.flatMap((entry: unknown, index): DeclaredObject[] => {
      const name = nameOf(entry);
      if (name === undefined) return [];
      const path = [c, index];
      if (options.faulted(path)) return [{ name, object: undefined }];
      const result = collectionSchemas[c].safeParse(entry, { error: issueMessage });
      if (!result.success) return [{ name, object: undefined }];
      const object: CollectionObject<CollectionName> = deepFreeze(result.data);
      options.parsed(object, path);
      return [{ name, object }];
    });
  }
  return parts as DocumentParts;
}

/**
 * Merges document parts as `mergeDocuments` merges documents (the later definition of a name
 * wins). A name whose final definition has problems is declared but left out of the
 * configuration: what it will hold once fixed is unknown, so nothing is checked against it.
 */
export function mergeDocumentParts(parts: readonly DocumentParts[]): PartialConfiguration {
  const merged: Record<string, readonly object[]> = {};
  const declared = new Map<CollectionName, ReadonlySet<string>>();
  for (const c of collectionNames) {
    const byName = new Map<string, DeclaredObject>();
    for (const doc of parts) for (const entry of doc[c]) byName.set(entry.name, entry);
    declared.set(c, new Set(byName.keys()));
    merged[c] = [...byName.values()].flatMap((e) => (e.object === undefined ? [] : [e.object]));
  }
  const config = deepFreeze({ version: DOCUMENT_VERSION, ...merged }) as Configuration;
  return { config, declared };
}

/**
 * The name an entry declares. A number counts too (`name: 123` fails the schema, yet a
 * reference to "123" means it).
 */
function nameOf(entry: unknown): string | undefined {
  const name = isRecord(entry) ? entry['name'] : undefined;
  return typeof name === 'string' || typeof name === 'number' ? String(name) : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
