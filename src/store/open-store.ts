import type { Clock } from '../core/index.js';
import { openEmbeddedStore } from './embedded-store.js';
import { openPostgresStore } from './postgres-store.js';
import type { Store } from './store.js';

/** Options for openStore. */
export interface OpenStoreOptions {
  /** Data directory of the embedded store, used when `store` is not given. */
  readonly dataDir: string;
  /** A `postgres://` URL; when absent or empty the embedded store in `dataDir` is used. */
  readonly store?: string | undefined;
  /** Source of timestamps; defaults to the system clock. */
  readonly clock?: Clock;
  /** False: refuse (POSTERN_ERR_STORE_MISSING) rather than create a store; default true. */
  readonly create?: boolean;
}

/**
 * Opens the store an operator chose: PostgreSQL for a `postgres://` URL, else the embedded
 * store in the data directory. Anything else in `store` is POSTERN_ERR_STORE_URL.
 */
export function openStore(options: OpenStoreOptions): Promise<Store> {
  const common = {
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.create === undefined ? {} : { create: options.create }),
  };
  if (options.store !== undefined && options.store !== '') {
    // openPostgresStore rejects a URL that is not postgres:// with POSTERN_ERR_STORE_URL.
    return openPostgresStore({ connectionString: options.store, ...common });
  }
  return openEmbeddedStore({ dataDir: options.dataDir, ...common });
}
