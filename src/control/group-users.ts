import {
  referenceProblems,
  type CollectionName,
  type ConfigProblem,
  type Configuration,
  type ReferenceOptions,
} from '../config/index.js';
import type { Store } from '../store/index.js';
import type { RuntimeView } from './runtime-view.js';

/** The collections whose objects can name a connector group, with their store kinds. */
const USERS = { pools: 'pool', applications: 'application' } as const;

type UserCollection = keyof typeof USERS;

/**
 * The problems the deletion of connector group `name` would cause: each document object
 * (file, line, path) and each API object (its admin API path) that uses the group. Found by
 * the reference check that imports and API changes run on the merged configuration, applied to
 * what is in force (documents, API objects, stored groups) without the group.
 */
export async function groupDeleteProblems(
  store: Store,
  runtime: RuntimeView,
  name: string,
): Promise<ConfigProblem[]> {
  const [groups, objects] = await Promise.all([store.groups.list(), store.objects.list()]);
  const apiNames = new Map<string, Set<string>>();
  const users: Partial<Record<UserCollection, unknown[]>> = {};
  for (const [collection, kind] of Object.entries(USERS) as [UserCollection, string][]) {
    const fromDocuments = runtime.documentObjects(kind).map((d) => d.spec as { name: string });
    const shadowed = new Set(fromDocuments.map((o) => o.name));
    // A document wins over an API object of the same name: that one is not in force.
    const fromApi = objects.filter((o) => o.kind === kind && !shadowed.has(o.name));
    apiNames.set(collection, new Set(fromApi.map((o) => o.name)));
    users[collection] = [...fromDocuments, ...fromApi.map((o) => o.spec)];
  }
  const configWith = (names: readonly string[]): Configuration =>
    ({
      version: 1,
      ...users,
      connector_groups: names.map((n) => ({ name: n })),
    }) as unknown as Configuration;
  const options: ReferenceOptions = {
    origins: {
      apiPath: (collection, object) =>
        apiNames.get(collection)?.has(object) === true ? apiPath(collection, object) : undefined,
      former: (collection, gone) =>
        collection === 'connector_groups' && gone === name
          ? { api: apiPath(collection, gone) }
          : undefined,
    },
  };
  const all = groups.map((g) => g.name);
  // Problems the objects have anyway (names of other collections, left out here) are not the
  // deletion's: only those that appear once the group is gone are.
  const before = new Set(referenceProblems(configWith(all), options).map(problemKey));
  const after = referenceProblems(configWith(all.filter((g) => g !== name)), options);
  return after.filter((p) => !before.has(problemKey(p)));
}

/** The admin API path of an object. */
function apiPath(collection: CollectionName, name: string): string {
  return `/api/v1/${collection.replaceAll('_', '-')}/${encodeURIComponent(name)}`;
}

function problemKey(p: ConfigProblem): string {
  return JSON.stringify([p.file, p.line, p.column, p.path, p.message]);
}
