import { sourceOf, type Configuration } from '../config/index.js';
import type { Owner, Store } from '../store/index.js';

/** The owner recorded for an object that came from a configuration document. */
export function documentOwner(object: object): Owner {
  return `document:${sourceOf(object)?.file ?? 'unknown'}`;
}

/**
 * Makes sure the connector groups that documents name exist in the store, where provisioning
 * keys and connectors refer to them. Every other document object lives only in the running
 * configuration: documents stay the source of truth, and their secrets (private keys of
 * certificates) never reach the store.
 */
export async function syncDocumentGroups(store: Store, config: Configuration): Promise<void> {
  for (const group of config.connector_groups) {
    if (await store.groups.get(group.name)) continue;
    await store.groups.create({
      name: group.name,
      owner: documentOwner(group),
      ...(group.description === undefined ? {} : { description: group.description }),
    });
  }
}
