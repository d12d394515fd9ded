import { deepFreeze } from './deep-freeze.js';
import type { CollectionName, ConfigDocument, Configuration } from './document.js';
import { collectionNames, DOCUMENT_VERSION } from './document.js';

type Named = { readonly name: string };

/**
 * Merges documents into one configuration, collection by collection and object by name.
 * When several documents define the same name in the same collection, the LATER document wins
 * (pass files in import order, e.g. sorted by name, so `10-site.yaml` overrides
 * `00-defaults.yaml`); the object keeps the position where the name first appeared. Objects
 * are reused, not copied, so `sourceOf` still points at the file that defined each one.
 */
export function mergeDocuments(docs: readonly ConfigDocument[]): Configuration {
  const merged: Record<string, readonly Named[]> = {};
  for (const collection of collectionNames) {
    merged[collection] = mergeCollection(docs, collection);
  }
  return deepFreeze({ version: DOCUMENT_VERSION, ...merged }) as Configuration;
}

function mergeCollection(docs: readonly ConfigDocument[], collection: CollectionName): Named[] {
  const byName = new Map<string, Named>();
  for (const doc of docs) {
    for (const object of doc[collection] as readonly Named[]) byName.set(object.name, object);
  }
  return [...byName.values()];
}
