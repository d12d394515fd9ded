import type { Configuration } from '../config/index.js';
import {
  API_COLLECTIONS,
  documentOwner,
  orderAccessPolicies,
  type ApiCollection,
} from '../control/index.js';
import type { ConnectorGroupRecord, StoredObject } from '../store/index.js';

/** The merged configuration and who owns each object (`api` or `document:<file>`). */
export interface MergedConfiguration {
  readonly config: Configuration;
  /** Owner by `<kind>/<name>`. */
  readonly owners: ReadonlyMap<string, string>;
  /** API objects hidden because a document defines the same name. */
  readonly shadowed: readonly string[];
}

/**
 * Merges the two sources of configuration: documents (the importer's last good generation)
 * and objects created through the admin API (in the store). A document wins over an API object
 * of the same kind and name; the API refuses to create such names, so this only happens when a
 * document is added later.
 */
export function mergeSources(
  documents: Configuration | undefined,
  groups: readonly ConnectorGroupRecord[],
  objects: readonly StoredObject[],
): MergedConfiguration {
  const owners = new Map<string, string>();
  const shadowed: string[] = [];
  const merged: Record<string, unknown[]> = { connector_groups: [] };
  const groupNames = new Set<string>();
  for (const g of documents?.connector_groups ?? []) {
    groupNames.add(g.name);
    merged.connector_groups!.push(g);
  }
  for (const g of groups)
    if (!groupNames.has(g.name)) merged.connector_groups!.push({ name: g.name });
  for (const [collection, kind] of Object.entries(API_COLLECTIONS)) {
    const list: unknown[] = [];
    const names = new Set<string>();
    for (const object of documents?.[collection as ApiCollection] ?? []) {
      names.add(object.name);
      owners.set(`${kind}/${object.name}`, documentOwner(object));
      list.push(object);
    }
    // API access policies keep their explicit order (PUT /api/v1/access-policies/order),
    // after those from documents.
    for (const stored of orderAccessPolicies(objects)) {
      if (stored.kind !== kind) continue;
      if (names.has(stored.name)) {
        shadowed.push(`${kind}/${stored.name}`);
        continue;
      }
      owners.set(`${kind}/${stored.name}`, stored.owner);
      list.push(stored.spec);
    }
    merged[collection] = list;
  }
  return { config: { version: 1, ...merged } as unknown as Configuration, owners, shadowed };
}
