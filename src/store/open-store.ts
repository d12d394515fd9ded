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
}

/**
 * Opens the store an operator chose: PostgreSQL for a `postgres://` URL, else the embedded
 * store in the data directory. Anything else in `store` is POSTERN_ERR_STORE_URL.
 */
export function openStore(options: OpenStoreOptions): Promise<Store> {
  const clock = options.clock === undefined ? {} : { clock: options.clock };
  if (options.store !== undefined && options.store !== '') {
    // openPostgresStore rejects a URL that is not postgres:// with POSTERN_ERR_STORE_URL.
    return openPostgresStore({ connectionString: options.store, ...clock });
  }
  return openEmbeddedStore({ dataDir: options.dataDir, ...clock });
}
