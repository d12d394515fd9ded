// Records the activity tests share.
import type { ActivityInput } from './activity-entry.js';

/**
 * An access decision of alice (group eng) from a TCP client: session `s-<id>` for a number, or
 * the id itself for a string, to `db-<id>:5432`.
 */
export function decisionInput(
  id: number | string,
  action: 'allow' | 'deny' = 'allow',
): ActivityInput {
  return {
    kind: 'decision',
    sessionId: typeof id === 'number' ? `s-${id}` : id,
    user: 'alice@example.com',
    groups: ['eng'],
    clientType: 'tcp_client',
    source: '127.0.0.1:5000',
    destination: `db-${id}:5432`,
    action,
    reason: 'test',
  };
}
