import {
  ensureDataDir,
  loadOrCreateAdminToken,
  loadOrCreateCa,
  loadOrCreateTokenSigningKey,
} from './edge-files.js';

/**
 * Creates what an edge keeps in its data directory (CA, admin token, token signing key) when
 * missing, so processes started together on one directory (cluster workers) only load them.
 */
export async function prepareDataDir(
  dir: string,
  options: {
    readonly adminToken?: string | undefined;
    readonly tokenSigningKey?: string | undefined;
  } = {},
): Promise<void> {
  await ensureDataDir(dir);
  await loadOrCreateCa(dir);
  await loadOrCreateAdminToken(dir, options.adminToken);
  if (options.tokenSigningKey === undefined) await loadOrCreateTokenSigningKey(dir);
}
