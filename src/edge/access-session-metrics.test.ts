import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accessSessionMetrics } from './access-session-metrics.js';
import { ConnectorRegistry } from './connector-registry.js';
import { EdgeMetrics } from './edge-metrics.js';

/** The values of one metric family, keyed by its labels joined as `name=value,…`. */
async function values(metrics: EdgeMetrics, name: string): Promise<Map<string, number>> {
  const family = await metrics.registry.getSingleMetric(name)?.get();
  return new Map(
    (family?.values ?? []).map((v) => [
      Object.entries(v.labels)
        .map(([k, l]) => `${k}=${String(l)}`)
        .join(','),
      v.value,
    ]),
  );
}

test('the open-sessions gauge reads 0 once the access proxy counts, before any session', async () => {
  const metrics = new EdgeMetrics(new ConnectorRegistry());
  accessSessionMetrics(metrics);
  assert.deepEqual(
    await values(metrics, 'postern_edge_access_open_sessions'),
    new Map([['client_type=tcp_client', 0]]),
  );
});

test('a session counts as open until it stops, once, and its end by close reason and bytes', async () => {
  const metrics = new EdgeMetrics(new ConnectorRegistry());
  const counted = accessSessionMetrics(metrics);
  const stopA = counted.started('tcp_client');
  counted.started('tcp_client');
  stopA();
  stopA();
  counted.ended('tcp_client', 'closed', { bytesFromClient: 5, bytesToClient: 11 });
  counted.ended('tcp_client', 'drain_timeout', { bytesFromClient: 1, bytesToClient: 2 });
  counted.ended('tcp_client', 'closed', { bytesFromClient: 0, bytesToClient: 0 });
  assert.deepEqual(
    await values(metrics, 'postern_edge_access_open_sessions'),
    new Map([['client_type=tcp_client', 1]]),
  );
  assert.deepEqual(
    await values(metrics, 'postern_edge_access_sessions_total'),
    new Map([
      ['client_type=tcp_client,reason=closed', 2],
      ['client_type=tcp_client,reason=drain_timeout', 1],
    ]),
  );
  assert.deepEqual(
    await values(metrics, 'postern_edge_access_session_bytes_total'),
    new Map([
      ['direction=to_upstream', 6],
      ['direction=to_client', 13],
    ]),
  );
});
