import type { Logger } from 'pino';
import { isPosternError, type Backoff } from '../core/index.js';
import { parseProvisioningKey } from '../protocol/index.js';
import type { ConnectorOptions } from './connector-options.js';
import { enroll } from './enrollment-client.js';
import { connectorErrors } from './errors.js';
import type { ConnectorIdentityFiles, IdentityStore } from './identity-store.js';

/** Enrolls with the provisioning key of `options` and stores the new identity. */
export async function enrollWithKey(
  options: Pick<ConnectorOptions, 'provisionKey' | 'version' | 'ephemeral'>,
  store: IdentityStore,
): Promise<ConnectorIdentityFiles> {
  if (!options.provisionKey) throw connectorErrors.noProvisioningKey();
  const key = parseProvisioningKey(options.provisionKey);
  const identity = await enroll(key, {
    version: options.version,
    ephemeral: options.ephemeral ?? false,
  });
  await store.save(identity);
  return identity;
}

/**
 * Runs `enrollOnce`, retrying with backoff while the edge cannot be reached (it may start after
 * the connector, as pods do); a refused key or a broken exchange fails at once, and so does a
 * stop (`signal`).
 */
export async function enrollPatiently(
  enrollOnce: () => Promise<ConnectorIdentityFiles>,
  o: { readonly backoff: Backoff; readonly logger: Logger; readonly signal: AbortSignal },
): Promise<ConnectorIdentityFiles> {
  for (;;) {
    try {
      return await enrollOnce();
    } catch (err) {
      if (!isPosternError(err, 'POSTERN_ERR_EDGE_UNREACHABLE') || o.signal.aborted) throw err;
      const wait = o.backoff.next();
      o.logger.warn(
        { code: err.code, err: err.message, retryInMs: wait },
        'edge unreachable; will enroll when it answers',
      );
      await delay(wait, o.signal);
      if (o.signal.aborted) throw err;
    }
  }
}

/**
 * The edge removes an ephemeral connector that left: its stored identity would be refused
 * (POSTERN_ERR_CONNECTOR_UNKNOWN), so delete it and let the next start enroll again — an
 * emptyDir survives a container restart in the same pod. A failure is only logged.
 */
export async function forgetEphemeralIdentity(
  store: IdentityStore,
  identity: ConnectorIdentityFiles,
  o: { readonly logger: Logger; readonly stateDir: string },
): Promise<void> {
  try {
    await store.clear();
    o.logger.info(
      { connector: identity.connectorId, stateDir: o.stateDir },
      'ephemeral connector removed at the edge; its stored identity is deleted (the next start enrolls again with the provisioning key)',
    );
  } catch (err) {
    o.logger.warn(
      { err: (err as Error).message, stateDir: o.stateDir },
      'could not delete the ephemeral identity; the next start enrolls again when the edge no longer knows it',
    );
  }
}

/** Waits `ms`, or less when `signal` aborts first (resolves either way). */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}
