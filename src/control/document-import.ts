import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  mergeDocuments,
  parseDocument,
  sourceOf,
  validateConfiguration,
  type ConfigDocument,
  type Configuration,
} from '../config/index.js';
import type { Owner, Store } from '../store/index.js';

const DOCUMENT = /\.(ya?ml|json)$/i;

/**
 * Reads every YAML/JSON document directly in `dir` in lexical order, validates each and the
 * merged whole (all problems at once, with file and line), or throws before anything changes.
 */
export async function readConfigDirectory(dir: string): Promise<Configuration> {
  const names = (await readdir(dir)).filter((n) => DOCUMENT.test(n) && !n.startsWith('.')).sort();
  const docs: ConfigDocument[] = [];
  for (const name of names)
    docs.push(parseDocument(await readFile(join(dir, name), 'utf8'), { fileName: name }));
  return validateConfiguration(mergeDocuments(docs));
}

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
  for (const pool of config.pools)
    wanted.set(`pool/${pool.name}`, {
      kind: 'pool',
      name: pool.name,
      spec: pool,
      owner: ownerOf(pool),
    });
  for (const vs of config.virtual_servers) {
    wanted.set(`virtual_server/${vs.name}`, {
      kind: 'virtual_server',
      name: vs.name,
      spec: vs,
      owner: ownerOf(vs),
    });
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
