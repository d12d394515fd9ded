import type { Logger } from 'pino';
import type {
  HttpRequestRecord,
  PoolEvent,
  TcpSessionRecord,
  TlsSessionRecord,
} from '../traffic/index.js';
import type { EdgeMetrics } from './edge-metrics.js';
import type { SessionHooks } from './virtual-server-set.js';

/** Logs every session and request end and counts it in the edge's metrics. */
export function sessionObserver(log: Logger, metrics: EdgeMetrics): SessionHooks {
  const count = (
    virtualServer: string,
    reason: string,
    toUpstream: number,
    toClient: number,
  ): void => {
    metrics.sessions.inc({ virtual_server: virtualServer, reason });
    metrics.bytes.inc({ direction: 'to_upstream' }, toUpstream);
    metrics.bytes.inc({ direction: 'to_client' }, toClient);
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
    onHttpRequest(r: HttpRequestRecord) {
      count(r.virtualServer, r.closeReason, r.bytesIn, r.bytesOut);
      metrics.requests.inc({ virtual_server: r.virtualServer, status: String(r.status) });
      log.info({ request: r }, 'request ended');
    },
  };
}

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
  } else {
    log.info({ ...event }, `pool ${event.type.replace('_', ' ')}`);
  }
}
