// https monitors of `via` pools with `tls`: the connector checks with the pool's public TLS
// settings (ca, server_name, verify), and the edge itself checks, through the tunnel, the pools
// whose tls has a client certificate (its key never leaves the edge).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Connector } from '../../src/connector/index.js';
import { makeCertificate, type TestKeyPair } from '../../src/traffic/tls/test-certificates.js';
import { startTlsNode, type TlsNode } from '../../src/traffic/tls/test-tls-node.js';
import {
  eventually,
  startTestConnector,
  startTestEdge,
  type TestEdge,
} from '../harness/harness.js';

const GROUP = 'montls-site';

interface NodeView {
  address: string;
  health: string;
  monitors: { name: string; checks: number; lastError?: string }[];
}

async function nodeView(edge: TestEdge, pool: string, address: string): Promise<NodeView> {
  const res = await edge.api<{ status: { nodes: NodeView[] } }>('GET', `/pools/${pool}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const node = res.body.status.nodes.find((n) => n.address === address);
  assert.ok(node, `node ${address} in pool ${pool}`);
  return node;
}

/** Waits until the node has been checked and shows `health`; returns its view. */
async function settled(
  edge: TestEdge,
  pool: string,
  node: TlsNode,
  health: string,
): Promise<NodeView> {
  const view = await eventually(
    async () => {
      const view = await nodeView(edge, pool, node.address);
      return (view.monitors[0]?.checks ?? 0) > 0 && view.health === health ? view : undefined;
    },
    `node ${node.address} of ${pool} ${health}`,
    15_000,
  );
  assert.ok(view);
  return view;
}

let edge: TestEdge;
let connector: Connector;
let nodeCert: TestKeyPair;
let clientCert: TestKeyPair;
let good: TlsNode;
let wrong: TlsNode;
let mutual: TlsNode;

before(async () => {
  nodeCert = await makeCertificate('node', ['api.internal']);
  const otherCert = await makeCertificate('impostor', ['api.internal']);
  clientCert = await makeCertificate('postern-edge', []);
  good = await startTlsNode(nodeCert);
  wrong = await startTlsNode(otherCert);
  mutual = await startTlsNode(nodeCert, { clientCa: clientCert.cert });
  edge = await startTestEdge();
  const key = await edge.createKey(GROUP);
  connector = await startTestConnector({ provisionKey: key.value });
  const monitor = {
    name: 'montls-hc',
    type: 'https',
    delay_ms: 200,
    timeout_ms: 2000,
    failures: 1,
    successes: 1,
  };
  const created = await edge.api('POST', '/monitors', monitor);
  assert.equal(created.status, 201, JSON.stringify(created.body));
});

after(async () => {
  await edge.stop();
  await Promise.all([good.close(), wrong.close(), mutual.close()]);
});

test('the connector checks a via pool with tls against its ca: an untrusted node goes down with the TLS reason', async () => {
  const created = await edge.api('POST', '/pools', {
    name: 'montls-ca',
    via: GROUP,
    monitors: ['montls-hc'],
    nodes: [{ address: good.address }, { address: wrong.address }],
    tls: { server_name: 'api.internal', ca: nodeCert.cert },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const sessionsBefore = connector.counters.total;
  try {
    await checkedOnConnector(sessionsBefore);
  } finally {
    assert.equal((await edge.api('DELETE', '/pools/montls-ca')).status, 204);
  }
});

async function checkedOnConnector(sessionsBefore: number): Promise<void> {
  await settled(edge, 'montls-ca', good, 'up');
  const down = await settled(edge, 'montls-ca', wrong, 'down');
  assert.match(down.monitors[0]?.lastError ?? '', /POSTERN_ERR_UPSTREAM_TLS/);
  assert.match(
    down.monitors[0]?.lastError ?? '',
    new RegExp(`TLS to node ${wrong.address} of pool "montls-ca"`),
  );
  assert.equal(wrong.seen.length, 0, 'no request went to the untrusted node');
  assert.equal(good.seen.at(-1)?.servername, 'api.internal');
  // Checks the edge made would have gone through the tunnel as data sessions.
  assert.equal(connector.counters.total, sessionsBefore, 'the connector ran the checks');
}

test('the edge checks a via pool whose tls has a client certificate itself, through the tunnel', async () => {
  const created = await edge.api('POST', '/pools', {
    name: 'montls-mutual',
    via: GROUP,
    monitors: ['montls-hc'],
    nodes: [{ address: mutual.address }],
    tls: {
      server_name: 'api.internal',
      ca: nodeCert.cert,
      cert: clientCert.cert,
      key: clientCert.key,
    },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const sessionsBefore = connector.counters.total;
  try {
    await checkedOnEdge(sessionsBefore);
  } finally {
    assert.equal((await edge.api('DELETE', '/pools/montls-mutual')).status, 204);
  }
});

async function checkedOnEdge(sessionsBefore: number): Promise<void> {
  const up = await settled(edge, 'montls-mutual', mutual, 'up');
  assert.equal(up.monitors[0]?.lastError, undefined);
  const last = mutual.seen.at(-1);
  assert.deepEqual([last?.servername, last?.clientCn], ['api.internal', 'postern-edge']);
  assert.ok(connector.counters.total > sessionsBefore, 'the checks went through the tunnel');
  // The first pool's checks end on the connector once its deletion reaches it.
  await eventually(() => connector.tunnel?.healthChecks === 0, 'the connector runs none of them');
}
