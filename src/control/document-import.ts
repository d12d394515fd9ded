import { sourceOf, type Configuration } from '../config/index.js';
import type { Owner, Store } from '../store/index.js';
import { importConfigTree } from './importer/index.js';

/**
 * Reads every YAML/JSON document below `dir` (a tree; dot-entries such as Kubernetes' `..data`
 * are skipped, the links into them followed) in lexical order of relative path, resolves
 * `valueFrom` file references, and validates each document and the merged whole (all problems
 * at once, with file and line), or throws before anything changes.
 */
export async function readConfigDirectory(dir: string): Promise<Configuration> {
  return (await importConfigTree(dir)).config;
}

/** Store kinds of the document collections kept in the store, by collection. */
const storedKinds = {
  monitors: 'monitor',
  certificates: 'certificate',
  rules: 'rule',
  pools: 'pool',
  virtual_servers: 'virtual_server',
} as const;

/**
 * Writes a configuration's objects into the store, owned by their documents (read-only
 * through the API). Objects of documents that are gone are removed.
 */
export async function syncDocumentsToStore(store: Store, config: Configuration): Promise<void> {
  const ownerOf = (obj: object): Owner => `document:${sourceOf(obj)?.file ?? 'unknown'}`;
  for (const group of config.connector_groups) {
    if (!(await store.groups.get(group.name))) {
      await store.groups.create({
        name: group.name,
        owner: ownerOf(group),
        ...(group.description === undefined ? {} : { description: group.description }),
      });
    }
  }
  const wanted = new Map<string, { kind: string; name: string; spec: object; owner: Owner }>();
  for (const [collection, kind] of Object.entries(storedKinds)) {
    for (const object of config[collection as keyof typeof storedKinds]) {
      wanted.set(`${kind}/${object.name}`, {
        kind,
        name: object.name,
        spec: object,
        owner: ownerOf(object),
      });
    }
  }
  for (const existing of await store.objects.list()) {
    if (
      existing.owner.startsWith('document:') &&
      !wanted.has(`${existing.kind}/${existing.name}`)
    ) {
      await store.objects.delete(existing.kind, existing.name);
    }
  }
  for (const o of wanted.values()) {
    const spec = JSON.parse(JSON.stringify(o.spec)) as never;
    const existing = await store.objects.get(o.kind, o.name);
    if (existing) await store.objects.update(o.kind, o.name, spec);
    else await store.objects.create({ kind: o.kind, name: o.name, spec, owner: o.owner });
  }
}
