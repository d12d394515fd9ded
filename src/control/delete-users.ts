import {
  referenceProblems,
  type CollectionName,
  type ConfigProblem,
  type Configuration,
  type ReferenceOptions,
} from '../config/index.js';
import type { Store } from '../store/index.js';
import { API_COLLECTIONS, apiPathOf, type ApiCollection } from './api-collections.js';
import type { RuntimeView } from './runtime-view.js';

/** An object an administrator asks to delete: its collection and name. */
export interface DeleteTarget {
  readonly collection: CollectionName;
  readonly name: string;
}

/**
 * The problems the deletion of `target` would cause: each document object (file, line, path)
 * and each API object (its admin API path) that uses it. Found by the reference check that
 * imports and API changes run on the merged configuration, applied to what is in force
 * (documents, API objects, stored groups) with and without the target; only the problems that
 * appear once it is gone are the deletion's.
 */
export async function deleteProblems(
  store: Store,
  runtime: RuntimeView,
  target: DeleteTarget,
): Promise<ConfigProblem[]> {
  const [groups, objects] = await Promise.all([store.groups.list(), store.objects.list()]);
  const apiNames = new Map<CollectionName, Set<string>>();
  const inForce: Partial<Record<CollectionName, { name: string }[]>> = {
    connector_groups: groups.map((g) => ({ name: g.name })),
  };
  for (const [collection, kind] of Object.entries(API_COLLECTIONS) as [ApiCollection, string][]) {
    const fromDocuments = runtime.documentObjects(kind).map((d) => d.spec as { name: string });
    const shadowed = new Set(fromDocuments.map((o) => o.name));
    // A document wins over an API object of the same name: that one is not in force.
    const fromApi = objects.filter((o) => o.kind === kind && !shadowed.has(o.name));
    apiNames.set(collection, new Set(fromApi.map((o) => o.name)));
    inForce[collection] = [...fromDocuments, ...fromApi.map((o) => o.spec as { name: string })];
  }
  const without = {
    ...inForce,
    [target.collection]: (inForce[target.collection] ?? []).filter((o) => o.name !== target.name),
  };
  const options: ReferenceOptions = {
    origins: {
      apiPath: (collection, object) =>
        apiNames.get(collection)?.has(object) === true ? apiPathOf(collection, object) : undefined,
      former: (collection, gone) =>
        collection === target.collection && gone === target.name
          ? { api: apiPathOf(collection, gone) }
          : undefined,
    },
  };
  const configOf = (collections: typeof inForce): Configuration =>
    ({ version: 1, ...collections }) as unknown as Configuration;
  // Problems the configuration has anyway are not the deletion's: only those that appear once
  // the target is gone are.
  const before = new Set(referenceProblems(configOf(inForce), options).map(problemKey));
  const after = referenceProblems(configOf(without), options);
  return after.filter((p) => !before.has(problemKey(p)));
}

function problemKey(p: ConfigProblem): string {
  return JSON.stringify([p.file, p.line, p.column, p.path, p.message]);
}
