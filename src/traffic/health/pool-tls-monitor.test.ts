// https monitors on a pool with `tls` use the pool's settings, as real traffic does: its ca,
// client certificate and server_name, verifying unless the pool says `verify: false`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DirectDialer } from '../direct-dial.js';
import { Pool } from '../pool.js';
import type { PoolConfigInput } from '../pool-config.js';
import { until } from '../test-pool-events.js';
import { makeCertificate, type TestKeyPair } from '../tls/test-certificates.js';
import { startTlsNode, type TlsNode } from '../tls/test-tls-node.js';
import type { MonitorConfigInput } from './monitor-spec.js';

let nodeCert: TestKeyPair;
let otherCert: TestKeyPair;
let clientCert: TestKeyPair;
let mutual: TlsNode;
let wrong: TlsNode;
/** Requires the client certificate, presents one the pool's ca did not sign. */
let wrongMutual: TlsNode;

before(async () => {
  nodeCert = await makeCertificate('node', ['api.internal']);
  otherCert = await makeCertificate('impostor', ['api.internal']);
  clientCert = await makeCertificate('postern-edge', []);
  mutual = await startTlsNode(nodeCert, { clientCa: clientCert.cert });
  wrong = await startTlsNode(otherCert);
  wrongMutual = await startTlsNode(otherCert, { clientCa: clientCert.cert });
});
after(async () => {
  await Promise.all([mutual.close(), wrong.close(), wrongMutual.close()]);
});

const monitor: MonitorConfigInput = {
  name: 'hc',
  type: 'https',
  delay_ms: 50,
  timeout_ms: 2_000,
  failures: 1,
  successes: 1,
};

/** A direct pool with `tls` and the https monitor; started, so that it checks its node. */
function startPool(
  node: TlsNode,
  tls: NonNullable<PoolConfigInput['tls']>,
  monitors: readonly MonitorConfigInput[] = [monitor],
): Pool {
  const pool = Pool.fromConfig(
    { name: 'api', nodes: [{ address: node.address }], monitors: monitors.map((m) => m.name), tls },
    { monitors, dialer: new DirectDialer() },
  );
  pool.start();
  return pool;
}

/** Waits for the node's first check and returns the node's health and the monitor's reason. */
async function firstCheck(pool: Pool): Promise<{ health: string; lastError: string | undefined }> {
  const node = () => pool.status().nodes[0]!;
  await until(() => (node().monitors[0]?.checks ?? 0) >= 1, 'the first check');
  return { health: node().health, lastError: node().monitors[0]?.lastError };
}

test('an https monitor on a pool with ca and a client certificate passes a node that requires the certificate', async () => {
  const pool = startPool(mutual, {
    server_name: 'api.internal',
    ca: nodeCert.cert,
    cert: clientCert.cert,
    key: clientCert.key,
  });
  try {
    const seen = await firstCheck(pool);
    assert.equal(seen.health, 'up', seen.lastError);
    const last = mutual.seen.at(-1);
    assert.deepEqual([last?.servername, last?.clientCn], ['api.internal', 'postern-edge']);
  } finally {
    pool.close();
  }
});

test('an https monitor marks down a node whose certificate the pool ca did not sign, with the TLS reason', async () => {
  const pool = startPool(wrong, { server_name: 'api.internal', ca: nodeCert.cert });
  try {
    const seen = await firstCheck(pool);
    assert.equal(seen.health, 'down');
    assert.match(seen.lastError ?? '', /POSTERN_ERR_UPSTREAM_TLS/);
    assert.match(seen.lastError ?? '', new RegExp(`TLS to node ${wrong.address} of pool "api"`));
    assert.match(seen.lastError ?? '', /self.signed|certificate/i);
    assert.equal(wrong.seen.length, 0, 'no request went to the untrusted node');
  } finally {
    pool.close();
  }
});

test('an https monitor on a pool with verify: false passes a node nobody trusts, still sending the client certificate', async () => {
  const pool = startPool(wrongMutual, {
    ca: nodeCert.cert,
    verify: false,
    cert: clientCert.cert,
    key: clientCert.key,
  });
  try {
    const seen = await firstCheck(pool);
    assert.equal(seen.health, 'up', seen.lastError);
    assert.equal(wrongMutual.seen.at(-1)?.clientCn, 'postern-edge');
  } finally {
    pool.close();
  }
});

test("an https monitor's verify_tls: false overrides the pool's verify", async () => {
  const lax = { ...monitor, name: 'lax', verify_tls: false };
  const pool = startPool(
    wrongMutual,
    { server_name: 'api.internal', ca: nodeCert.cert, cert: clientCert.cert, key: clientCert.key },
    [lax],
  );
  try {
    const seen = await firstCheck(pool);
    assert.equal(seen.health, 'up', seen.lastError);
  } finally {
    pool.close();
  }
});

test('an https monitor sends the pool server_name as SNI before the monitor host_header', async () => {
  const named = { ...monitor, name: 'named', host_header: 'other.internal' };
  const pool = startPool(
    mutual,
    { server_name: 'api.internal', ca: nodeCert.cert, cert: clientCert.cert, key: clientCert.key },
    [named],
  );
  try {
    const seen = await firstCheck(pool);
    assert.equal(seen.health, 'up', seen.lastError);
    assert.equal(mutual.seen.at(-1)?.servername, 'api.internal');
  } finally {
    pool.close();
  }
});

test('an https monitor on a pool with tls verifies the name traffic verifies, not its host_header', async () => {
  // Traffic to a node given by IP, with no server_name, verifies the IP: a certificate naming
  // only api.internal fails it. A monitor sending host_header api.internal as SNI would pass.
  const plain = await startTlsNode(nodeCert);
  const named = { ...monitor, name: 'named', host_header: 'api.internal' };
  const pool = startPool(plain, { ca: nodeCert.cert }, [named]);
  try {
    const seen = await firstCheck(pool);
    assert.equal(seen.health, 'down');
    assert.match(seen.lastError ?? '', /POSTERN_ERR_UPSTREAM_TLS.*127\.0\.0\.1/);
    assert.equal(plain.seen.length, 0);
  } finally {
    pool.close();
    await plain.close();
  }
});
