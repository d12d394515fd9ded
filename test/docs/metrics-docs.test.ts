import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { ConnectorMetrics, startProbeServer } from '../../src/connector/index.js';
import {
  startTestConnector,
  startTestEdge,
  stopAllConnectors,
  tempDir,
  type TestEdge,
} from '../harness/harness.js';
import { repoRoot } from '../support/repo-root.js';

/** Metric families by name, with their type, from Prometheus exposition text. */
function families(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

/** Families documented in docs/metrics.md table rows: | `name` | type | labels | meaning |. */
function documented(doc: string): Map<string, string> {
  const rows = doc.matchAll(/^\|\s*`(postern_[a-z0-9_]+)`\s*\|\s*([a-z]+)\s*\|/gm);
  return new Map([...rows].map((m) => [m[1]!, m[2]!]));
}

/** prom-client's default metric names (process, Node.js), documented as a group, not one by one. */
async function defaultNames(): Promise<Set<string>> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
}

let edge: TestEdge;
let served: Map<string, string>;

before(async () => {
  // Everything that registers metrics conditionally is switched on: the importer (config
  // directory), the Konnectivity frontend and a connector's probe listener.
  const dir = await tempDir('postern-metrics-docs-');
  edge = await startTestEdge({
    configDir: dir,
    konnectivity: { udsPath: join(dir, 'konn.sock'), strategies: 'default' },
  });
  const key = await edge.createKey('metrics-docs');
  const connector = await startTestConnector({
    provisionKey: key.value,
    metrics: new ConnectorMetrics({ defaultMetrics: true }),
  });
  const probes = await startProbeServer('127.0.0.1:0', {
    alive: () => true,
    ready: () => true,
    metrics: connector.metrics.registry,
  });
  try {
    const edgeText = await (await fetch(`${edge.adminUrl}/metrics`)).text();
    const connectorText = await (
      await fetch(`http://127.0.0.1:${probes.address.port}/metrics`)
    ).text();
    served = new Map([...families(edgeText), ...families(connectorText)]);
  } finally {
    await probes.close();
  }
});

after(async () => {
  await stopAllConnectors();
  await edge.stop();
});

test('docs/metrics.md documents every metric family the edge and connector serve, with its type', async () => {
  const doc = documented(await readFile(join(repoRoot(), 'docs/metrics.md'), 'utf8'));
  const defaults = await defaultNames();
  const isDefault = (name: string) => defaults.has(name.replace(/^postern_(edge|connector)_/, ''));
  const missing = [...served.keys()].filter((n) => !isDefault(n) && !doc.has(n));
  assert.deepEqual(missing, [], `served but not documented: ${missing.join(', ')}`);
  const wrongType = [...doc].filter(([n, type]) => served.has(n) && served.get(n) !== type);
  assert.deepEqual(wrongType, [], 'documented with the wrong type');
});

test('docs/metrics.md documents no metric family that neither edge nor connector serves', async () => {
  const doc = documented(await readFile(join(repoRoot(), 'docs/metrics.md'), 'utf8'));
  const stale = [...doc.keys()].filter((n) => !served.has(n));
  assert.deepEqual(stale, [], `documented but not served: ${stale.join(', ')}`);
  // Both processes' default metrics are served (and documented as a group).
  assert.ok(served.has('postern_edge_process_cpu_seconds_total'));
  assert.ok(served.has('postern_connector_process_cpu_seconds_total'));
});
