import type { Logger } from 'pino';
import type {
  PoolEvent,
  RequestEnd,
  TcpSessionRecord,
  TlsSessionRecord,
} from '../traffic/index.js';
import { CounterTally } from './counter-tally.js';
import { connectionRefusals } from './connection-refusals.js';
import type { EdgeMetrics } from './edge-metrics.js';
import type { SessionHooks } from './virtual-server-set.js';

/** Logs every session and request end and counts it in the edge's metrics. */
export function sessionObserver(log: Logger, metrics: EdgeMetrics): SessionHooks {
  // Tallied, not inc()'d per request: label hashing in prom-client was a visible per-request cost.
  const sessions = new CounterTally(metrics.sessions);
  const bytes = new CounterTally(metrics.bytes);
  const requests = new CounterTally(metrics.requests);
  const count = (
    virtualServer: string,
    reason: string,
    toUpstream: number,
    toClient: number,
  ): void => {
    sessions.add(virtualServer, reason, sessionLabels);
    bytes.add('to_upstream', '', directionLabels, toUpstream);
    bytes.add('to_client', '', directionLabels, toClient);
  };
  return {
    onTcpSession(r: TcpSessionRecord) {
      count(r.virtualServer, r.closeReason, r.bytesFromClient, r.bytesToClient);
      log.info({ session: r }, 'session ended');
    },
    onTlsSession(r: TlsSessionRecord) {
      count(r.virtualServer, r.closeReason, r.bytesFromClient, r.bytesToClient);
      log.info({ session: r }, 'session ended');
    },
    onHttpRequest(end: RequestEnd) {
      count(end.virtualServer, end.closeReason, end.bytesIn, end.bytesOut);
      requests.add(end.virtualServer, end.status, requestLabels);
      // The record (a new request id, the redacted path) is built only when it is logged.
      if (log.isLevelEnabled('info')) log.info({ request: end.record() }, 'request ended');
    },
    onConnectionRefused: connectionRefusals(log, metrics),
  };
}

const sessionLabels = (virtualServer: string, reason: string | number) => ({
  virtual_server: virtualServer,
  reason: String(reason),
});
const directionLabels = (direction: string) => ({ direction });
const requestLabels = (virtualServer: string, status: string | number) => ({
  virtual_server: virtualServer,
  status: String(status),
});

/** Logs pool events: node health changes, panic, discovery. */
export function logPoolEvent(log: Logger, event: PoolEvent): void {
  if (event.type === 'discovery_error') {
    log.warn(
      { pool: event.pool, err: event.error.message },
      'DNS discovery failed; keeping the last good nodes',
    );
  } else if (event.type === 'panic') {
    log.warn(
      { pool: event.pool, panic: event.panic, mode: event.mode },
      event.panic ? 'every node of the pool is down' : 'pool has healthy nodes again',
    );
  } else if (event.type === 'tls_unverified') {
    // Certificates unchecked: anyone on the path to the nodes can read and change the traffic.
    log.warn({ pool: event.pool }, event.warning);
  } else {
    log.info({ ...event }, `pool ${event.type.replace('_', ' ')}`);
  }
}
