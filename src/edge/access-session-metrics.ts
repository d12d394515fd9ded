import type { ClientType } from '../config/index.js';
import { CounterTally } from './counter-tally.js';
import type { EdgeMetrics } from './edge-metrics.js';

/** Bytes an access session carried each way. */
export interface AccessSessionBytes {
  readonly bytesFromClient: number;
  readonly bytesToClient: number;
}

/** What the access proxy tells the edge's metrics about its sessions. */
export interface AccessSessionMetrics {
  /** Counts one more open session; the returned function counts it gone (call it once). */
  started(clientType: ClientType): () => void;
  /** Counts a session end as the activity log records it, with its close reason and bytes. */
  ended(clientType: ClientType, closeReason: string, bytes: AccessSessionBytes): void;
}

/**
 * Counts the access proxy's sessions in the edge's metrics: open now, ended by client type and
 * close reason, and bytes each way. Labels are bounded: client types and close reasons are short
 * fixed sets (no user, address or session id), as the virtual servers' session metrics.
 */
export function accessSessionMetrics(metrics: EdgeMetrics): AccessSessionMetrics {
  // Tallied as the virtual servers' sessions are (session-observer.ts): one path of counting.
  const sessions = new CounterTally(metrics.accessSessions);
  const bytes = new CounterTally(metrics.accessBytes);
  // Reads 0, not nothing, before the first session of an edge with the access proxy on.
  metrics.accessSessionsOpen.set({ client_type: 'tcp_client' }, 0);
  return {
    started(clientType) {
      metrics.accessSessionsOpen.inc({ client_type: clientType });
      let counted = true;
      return () => {
        if (!counted) return;
        counted = false;
        metrics.accessSessionsOpen.dec({ client_type: clientType });
      };
    },
    ended(clientType, closeReason, counts) {
      sessions.add(clientType, closeReason, sessionLabels);
      bytes.add('to_upstream', '', directionLabels, counts.bytesFromClient);
      bytes.add('to_client', '', directionLabels, counts.bytesToClient);
    },
  };
}

const sessionLabels = (clientType: string, reason: string | number) => ({
  client_type: clientType,
  reason: String(reason),
});
const directionLabels = (direction: string) => ({ direction });
