import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../core/index.js';
import { Pool, type PoolStatus } from '../traffic/index.js';
import { ConnectorRegistry } from './connector-registry.js';
import { EdgeMetrics } from './edge-metrics.js';

/** Just what the pool metrics read from a pool's status. */
function pool(name: string, health: readonly string[], available: number): PoolStatus {
  const nodes = health.map((h, i) => ({
    address: `10.0.0.${i + 1}:80`,
    health: h,
    requests: {},
    sessions: 0,
    activeConnections: 0,
    maxConnections: 0,
    responseTimes: { buckets: [], sumSeconds: 0, count: 0 },
  }));
  return { name, available, nodes, queued: 0, queueTimeouts: 0 } as unknown as PoolStatus;
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

test('per-node requests, sessions, in-progress, up and response times are scraped from the pools', async () => {
  const metrics = new EdgeMetrics(new ConnectorRegistry());
  const clock = new FakeClock();
  const a = { address: '10.0.0.1:80', weight: 1, state: 'active' } as const;
  const b = { address: '10.0.0.2:80', weight: 1, state: 'active' } as const;
  const options = {
    name: 'web',
    clock,
    passiveHealth: { failures: 1, on5xx: false, ejectMs: 60_000 },
  };
  let web = new Pool({ ...options, nodes: [a, b] });
  web.start();
  metrics.registerPoolHealth(() => [web.status()]);
  const onA = { exclude: new Set([b.address]), request: true };
  web.pick(onA).done({ ok: true, status: 200, responseMs: 3 });
  web.pick(onA).done({ ok: true, status: 201, responseMs: 30 });
  web.pick(onA).done({ ok: true, status: 404, responseMs: 0.5 });
  web.pick({ exclude: new Set([a.address]) }).done({ ok: false, kind: 'connect' });
  const held = web.pick(onA);
  const out = await metrics.registry.metrics();
  const line = (series: string, value: number | string) =>
    assert.ok(out.split('\n').includes(`${series} ${value}`), `${series} ${value} in\n${out}`);
  const A = 'pool="web",node="10.0.0.1:80"';
  const B = 'pool="web",node="10.0.0.2:80"';
  line(`postern_edge_pool_node_requests_total{${A},outcome="2xx"}`, 2);
  line(`postern_edge_pool_node_requests_total{${A},outcome="4xx"}`, 1);
  line(`postern_edge_pool_node_sessions_total{${B}}`, 1);
  line(`postern_edge_pool_node_sessions_total{${A}}`, 0);
  line(`postern_edge_pool_node_active{${A}}`, 1);
  line(`postern_edge_pool_node_active{${B}}`, 0);
  line(`postern_edge_pool_node_up{${A}}`, 1);
  line(`postern_edge_pool_node_up{${B}}`, 0);
  assert.match(out, /^# TYPE postern_edge_pool_node_response_seconds histogram$/m);
  line(`postern_edge_pool_node_response_seconds_bucket{${A},le="0.001"}`, 1);
  line(`postern_edge_pool_node_response_seconds_bucket{${A},le="0.005"}`, 2);
  line(`postern_edge_pool_node_response_seconds_bucket{${A},le="0.025"}`, 2);
  line(`postern_edge_pool_node_response_seconds_bucket{${A},le="0.05"}`, 3);
  line(`postern_edge_pool_node_response_seconds_bucket{${A},le="+Inf"}`, 3);
  line(`postern_edge_pool_node_response_seconds_sum{${A}}`, 0.0335);
  line(`postern_edge_pool_node_response_seconds_count{${A}}`, 3);
  held.done({ ok: true, status: 200, responseMs: 1 });

  // A reload without node B: its series go; A's counts carry over.
  const next = new Pool({ ...options, nodes: [a], previous: web });
  next.start();
  web.close();
  web = next;
  const after = await metrics.registry.metrics();
  assert.doesNotMatch(after, /node="10\.0\.0\.2:80"/, 'a removed node leaves no series');
  assert.ok(after.includes(`postern_edge_pool_node_requests_total{${A},outcome="2xx"} 3`));
  assert.ok(after.includes(`postern_edge_pool_node_active{${A}} 0`));
});
