import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PoolStatus } from '../traffic/index.js';
import { ConnectorRegistry } from './connector-registry.js';
import { EdgeMetrics } from './edge-metrics.js';

/** Just what the pool gauges read from a pool's status. */
function pool(name: string, health: readonly string[], available: number): PoolStatus {
  return { name, available, nodes: health.map((h) => ({ health: h })) } as unknown as PoolStatus;
}

test('pool node health is read at scrape time: nodes by health and available nodes per pool', async () => {
  const metrics = new EdgeMetrics(new ConnectorRegistry());
  let pools = [pool('web', ['up', 'up', 'down'], 2), pool('db', ['unknown'], 1)];
  metrics.registerPoolHealth(() => pools);
  const text = async () => metrics.registry.metrics();
  let out = await text();
  assert.match(out, /^postern_edge_pool_nodes\{pool="web",health="up"\} 2$/m);
  assert.match(out, /^postern_edge_pool_nodes\{pool="web",health="down"\} 1$/m);
  assert.match(out, /^postern_edge_pool_nodes\{pool="web",health="unknown"\} 0$/m);
  assert.match(out, /^postern_edge_pool_nodes\{pool="db",health="unknown"\} 1$/m);
  assert.match(out, /^postern_edge_pool_available_nodes\{pool="web"\} 2$/m);
  pools = [pool('web', ['down', 'down', 'down'], 0)];
  out = await text();
  assert.match(out, /^postern_edge_pool_nodes\{pool="web",health="down"\} 3$/m);
  assert.match(out, /^postern_edge_pool_available_nodes\{pool="web"\} 0$/m);
  assert.doesNotMatch(out, /pool="db"/, 'a removed pool leaves no series');
});
