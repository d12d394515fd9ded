import { randomUUID } from 'node:crypto';

/**
 * A request id: a random (version 4) UUID, unique across edges and restarts. Random rather than
 * a per-process prefix and a counter, which let a client that saw two ids tell how many
 * requests the edge served in between. Node draws the random bytes in batches, so an id costs
 * about as much as formatting the counter did.
 */
export function nextRequestId(): string {
  return randomUUID();
}
