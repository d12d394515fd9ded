/**
 * Collections an administrator can also create through the admin API, with the kinds the store
 * keeps their objects under (connector groups are kept as groups). The edge merges these with
 * the configuration documents; deletes check them for users.
 */
export const API_COLLECTIONS = {
  monitors: 'monitor',
  certificates: 'certificate',
  rules: 'rule',
  pools: 'pool',
  virtual_servers: 'virtual_server',
  log_receivers: 'log_receiver',
  identity_providers: 'identity_provider',
  // Applications and access rules reach the runtime (access proxy, connector targets) this way.
  applications: 'application',
  access_policies: 'access_policy',
} as const;

/** A collection that has API-created objects. */
export type ApiCollection = keyof typeof API_COLLECTIONS;

/** The collection of a stored object kind (`virtual_server` → `virtual_servers`), if any. */
export function collectionOfKind(kind: string): ApiCollection | undefined {
  return (Object.keys(API_COLLECTIONS) as ApiCollection[]).find((c) => API_COLLECTIONS[c] === kind);
}

/** The admin API path of an object (`/api/v1/virtual-servers/front`). */
export function apiPathOf(collection: string, name: string): string {
  return `/api/v1/${collection.replaceAll('_', '-')}/${encodeURIComponent(name)}`;
}
