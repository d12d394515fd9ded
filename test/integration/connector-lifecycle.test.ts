/**
 * Connector lifecycle against a real edge: ephemeral restarts on the same state directory,
 * certificates that expired while offline, malformed edge addresses, and the administrator's
 * drain as the connector reports it (log and /readyz).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { pino, type Logger } from 'pino';
import { Backoff } from '../../src/core/index.js';
import { parseProvisioningKey } from '../../src/protocol/index.js';
import { enroll } from '../../src/connector/enrollment-client.js';
import { generateKeyPairAndCsr, loadCertificateAuthority } from '../../src/pki/index.js';
import {
  Connector,
  IdentityStore,
  startProbeServer,
  type ConnectorOptions,
} from '../../src/connector/index.js';
import {
  eventually,
  freePort,
  startTestConnector,
  startTestEdge,
  tempDir,
  type TestEdge,
} from '../harness/harness.js';

let edge: TestEdge;
before(async () => {
  edge = await startTestEdge();
});
after(async () => {
  await edge.stop();
});

interface LogLine {
  level: number;
  msg: string;
  err?: string;
  code?: string;
}

/** A logger whose records the test can read. */
function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) },
  );
  return { logger, lines };
}

async function connectorStatus(id: string): Promise<number> {
  return (await edge.api('GET', `/connectors/${id}`)).status;
}

/**
 * Replaces the stored certificate with one the edge CA signed that expired minutes ago. The
 * edge never issued it, so it refuses to renew it: like one expired past the renewal grace.
 */
async function expireCertificate(stateDir: string): Promise<void> {
  const store = new IdentityStore(stateDir);
  const identity = (await store.load())!;
  const ca = await loadCertificateAuthority({
    certPem: await readFile(join(edge.dir, 'ca.crt'), 'utf8'),
    keyPem: await readFile(join(edge.dir, 'ca.key'), 'utf8'),
  });
  const { keyPem, csrPem } = await generateKeyPairAndCsr({ commonName: 'postern-connector' });
  // Issued "3 minutes ago" for one minute: inside the CA's validity, expired now.
  const issued = await ca.issueClientCertificate(csrPem, {
    connectorId: identity.connectorId,
    group: identity.group,
    validityMs: 60_000,
    clock: { now: () => Date.now() - 3 * 60_000 },
  });
  assert.ok(issued.notAfter.getTime() < Date.now());
  await store.saveRenewed(keyPem, issued.certPem);
}

/** A connector on an existing state dir that is not waited for; resolves its first halt. */
async function startHalting(
  options: Partial<ConnectorOptions> & { stateDir: string },
): Promise<{ connector: Connector; halted: Promise<Error>; attempts: () => number }> {
  const connector = new Connector({
    version: 'test',
    logger: options.logger ?? pino({ level: 'silent' }),
    backoff: new Backoff({ initialMs: 50, factor: 1.5, maxMs: 200 }),
    ...options,
  });
  let attempts = 0;
  connector.on('tunnelError', () => (attempts += 1));
  const halted = new Promise<Error>((resolve) => connector.once('halted', resolve));
  await connector.start();
  return { connector, halted, attempts: () => attempts };
}

/** Resolves with the halt, or rejects when the connector keeps retrying past `ms`. */
function haltWithin(halted: Promise<Error>, ms: number): Promise<Error> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    halted,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no halt within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

test('an ephemeral connector deletes its stored identity when it removes itself, and restarts on the same state dir', async () => {
  const key = await edge.createKey('life-eph', { max_usage: 1 });
  const first = await startTestConnector({ provisionKey: key.value, ephemeral: true });
  const firstId = first.identity!.connectorId;
  await first.stop({ drainTimeoutMs: 100 });
  assert.equal(await new IdentityStore(first.dir).load(), undefined);
  await eventually(async () => (await connectorStatus(firstId)) === 404, 'ephemeral removal');
  // A container restart in the same pod: the emptyDir survived, the key is still given.
  const again = await startTestConnector({
    stateDir: first.dir,
    provisionKey: key.value,
    ephemeral: true,
  });
  assert.notEqual(again.identity!.connectorId, firstId);
  await again.stop({ drainTimeoutMs: 100 });
});

test('an ephemeral identity the edge no longer knows enrolls again with the given key', async () => {
  const key = await edge.createKey('life-eph-kill', { max_usage: 1 });
  const first = await startTestConnector({ provisionKey: key.value, ephemeral: true });
  const kept = first.identity!;
  await first.stop({ drainTimeoutMs: 100 });
  await eventually(async () => (await connectorStatus(kept.connectorId)) === 404, 'removal');
  // As if the process died after the edge removed it but before it deleted its identity.
  await new IdentityStore(first.dir).save(kept);
  const { logger, lines } = capturingLogger();
  const again = await startTestConnector({
    stateDir: first.dir,
    provisionKey: key.value,
    ephemeral: true,
    logger,
  });
  assert.notEqual(again.identity!.connectorId, kept.connectorId);
  assert.equal(
    (await new IdentityStore(first.dir).load())?.connectorId,
    again.identity!.connectorId,
  );
  assert.ok(lines.some((l) => /removed this ephemeral connector/.test(l.msg)));
  await again.stop({ drainTimeoutMs: 100 });
});

test('without a key, a certificate that expired while offline stops the connector with how to fix it', async () => {
  const key = await edge.createKey('life-expired');
  const c = await startTestConnector({ provisionKey: key.value });
  const id = c.identity!.connectorId;
  await c.stop({ drainTimeoutMs: 100 });
  await expireCertificate(c.dir);
  const { connector, halted, attempts } = await startHalting({ stateDir: c.dir });
  try {
    const err = await haltWithin(halted, 5000);
    assert.equal((err as { code?: string }).code, 'POSTERN_ERR_CONNECTOR_CERT_EXPIRED');
    assert.match(err.message, /expired at .* while it was offline/);
    assert.match(err.message, /the edge did not renew it/);
    assert.match(err.message, /--provision-key/);
    assert.ok(err.message.includes(`postern connectors delete ${id}`), err.message);
    const after = attempts();
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(attempts(), after, 'no attempts after the halt');
  } finally {
    await connector.stop({ drainTimeoutMs: 0 });
  }
});

test('a certificate that expired while offline is renewed without a key and keeps its connector id', async () => {
  const short = await startTestEdge({ certificateValidityMs: 1500 });
  try {
    const key = await short.createKey('life-renew-offline');
    // Enrolled but never connected, so it never renewed over a tunnel.
    const identity = await enroll(parseProvisioningKey(key.value), {
      version: 'test',
      ephemeral: false,
    });
    const dir = await tempDir('postern-life-');
    await new IdentityStore(dir).save(identity);
    const wait = Date.parse(new X509Certificate(identity.certPem).validTo) - Date.now() + 1100;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
    const c = await startTestConnector({ stateDir: dir });
    try {
      assert.equal(c.identity!.connectorId, identity.connectorId);
      const stored = (await new IdentityStore(dir).load())!;
      assert.ok(Date.parse(new X509Certificate(stored.certPem).validTo) > Date.now());
      assert.notEqual(stored.keyPem, identity.keyPem);
    } finally {
      await c.stop({ drainTimeoutMs: 100 });
    }
  } finally {
    await short.stop();
  }
});

test('a certificate that expired while offline and is not renewed enrolls again with a valid key, once for all its tunnels', async () => {
  const key = await edge.createKey('life-renewed');
  const c = await startTestConnector({ provisionKey: key.value });
  const oldId = c.identity!.connectorId;
  await c.stop({ drainTimeoutMs: 100 });
  await expireCertificate(c.dir);
  // Two tunnel slots are refused at the same time: they share one enrollment.
  const address = `127.0.0.1:${edge.tunnelAddress.port}`;
  const again = await startTestConnector({
    stateDir: c.dir,
    provisionKey: key.value,
    edgeAddresses: [address, address],
  });
  try {
    assert.notEqual(again.identity!.connectorId, oldId);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const usage = await edge.api<{ usage_count: number }>('GET', `/provisioning-keys/${key.id}`);
    assert.equal(usage.body.usage_count, 2, 'the first enrollment and one more');
  } finally {
    await again.stop({ drainTimeoutMs: 100 });
  }
});

test('when enrolling again is refused for good (exhausted or revoked key) the connector stops with that error', async () => {
  for (const spoil of ['exhausted', 'revoked'] as const) {
    const key = await edge.createKey(`life-${spoil}`, { max_usage: 1 });
    const c = await startTestConnector({ provisionKey: key.value });
    await c.stop({ drainTimeoutMs: 100 });
    if (spoil === 'revoked') await edge.api('POST', `/provisioning-keys/${key.id}/revoke`);
    await expireCertificate(c.dir);
    const { logger, lines } = capturingLogger();
    const { connector, halted } = await startHalting({
      stateDir: c.dir,
      provisionKey: key.value,
      logger,
    });
    try {
      const err = await haltWithin(halted, 5000);
      const expected =
        spoil === 'exhausted' ? 'POSTERN_ERR_KEY_EXHAUSTED' : 'POSTERN_ERR_KEY_REVOKED';
      assert.equal((err as { code?: string }).code, 'POSTERN_ERR_CONNECTOR_CERT_EXPIRED');
      assert.equal((err.cause as { code?: string }).code, expected);
      assert.match(err.message, /enrolling again with the provisioning key failed/);
      assert.ok(
        lines.some((l) => l.level === 50 && l.code === expected),
        `the enrollment error is logged: ${JSON.stringify(lines)}`,
      );
    } finally {
      await connector.stop({ drainTimeoutMs: 0 });
    }
  }
});

test('a malformed edge address fails at start; a well-formed unreachable one keeps retrying', async () => {
  const key = await edge.createKey('life-unreachable');
  const c = await startTestConnector({ provisionKey: key.value });
  await c.stop({ drainTimeoutMs: 100 });
  for (const edgeAddresses of [
    ['bogus'],
    [`127.0.0.1:${edge.tunnelAddress.port}`, 'edge.example.com'],
  ]) {
    const bad = new Connector({
      stateDir: c.dir,
      provisionKey: key.value,
      version: 'test',
      logger: pino({ level: 'silent' }),
      edgeAddresses,
    });
    await assert.rejects(bad.start(), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'POSTERN_ERR_INVALID_ARGUMENT');
      assert.match(err.message, /"(bogus|edge\.example\.com)" .*is not host:port/);
      return true;
    });
    await bad.stop({ drainTimeoutMs: 0 });
  }
  const { connector, halted, attempts } = await startHalting({
    stateDir: c.dir,
    edgeAddress: `127.0.0.1:${await freePort()}`,
  });
  let stopped = false;
  void halted.then(() => (stopped = true));
  try {
    await eventually(() => attempts() >= 3, 'three attempts', 5000);
    assert.equal(stopped, false);
  } finally {
    await connector.stop({ drainTimeoutMs: 0 });
  }
});

test("an administrator's drain is logged by the connector and its /readyz reports draining until undrain", async () => {
  const key = await edge.createKey('life-drain');
  const { logger, lines } = capturingLogger();
  const c = await startTestConnector({ provisionKey: key.value, logger });
  const id = c.identity!.connectorId;
  const probes = await startProbeServer('127.0.0.1:0', {
    alive: () => true,
    ready: () => c.tunnel !== undefined,
    draining: () => (c.drained ? 'drained by the operator' : undefined),
  });
  const readyz = async () => {
    const res = await fetch(`http://127.0.0.1:${probes.address.port}/readyz`);
    return [res.status, (await res.json()) as { status: string; reason?: string }] as const;
  };
  try {
    assert.deepEqual(await readyz(), [200, { status: 'ready' }]);
    const changes: boolean[] = [];
    c.on('drained', (drained) => changes.push(drained));
    assert.equal((await edge.api('POST', `/connectors/${id}/drain`)).status, 202);
    await eventually(() => c.drained, 'the drain to reach the connector');
    assert.deepEqual(await readyz(), [
      503,
      { status: 'draining', reason: 'drained by the operator' },
    ]);
    const line = lines.find((l) => /drained by the edge's operator/.test(l.msg));
    assert.equal(line?.level, 30);
    assert.match(line.msg, /no new sessions/);
    assert.equal((await edge.api('POST', `/connectors/${id}/undrain`)).status, 200);
    await eventually(() => !c.drained, 'the undrain to reach the connector');
    assert.deepEqual(changes, [true, false]);
    assert.deepEqual(await readyz(), [200, { status: 'ready' }]);
    assert.ok(lines.some((l) => l.level === 30 && /undrained by the edge's operator/.test(l.msg)));
  } finally {
    await probes.close();
    await c.stop({ drainTimeoutMs: 100 });
  }
});

test('a connector that stops logs that it is leaving, not that its edges failed', async () => {
  const key = await edge.createKey('life-leave');
  const { logger, lines } = capturingLogger();
  const c = await startTestConnector({ provisionKey: key.value, logger });
  await c.stop({ drainTimeoutMs: 100 });
  await eventually(
    () => lines.some((l) => /this connector is leaving/.test(l.msg)),
    'the leaving line',
  );
  const blamed = lines.filter((l) => l.err !== undefined);
  assert.deepEqual(blamed, []);
});

test('an edge that shuts down is logged as going away, not as a failed connection', async () => {
  const own = await startTestEdge();
  try {
    const key = await own.createKey('life-goaway');
    const { logger, lines } = capturingLogger();
    const c = await startTestConnector({ provisionKey: key.value, logger });
    try {
      await own.close();
      await eventually(
        () => lines.some((l) => /the edge is going away \(restart or upgrade\)/.test(l.msg)),
        'the going-away line',
      );
      assert.deepEqual(
        lines.filter((l) => /failed or ended unexpectedly/.test(l.err ?? '')),
        [],
      );
    } finally {
      await c.stop({ drainTimeoutMs: 0 });
    }
  } finally {
    await own.stop().catch(() => undefined);
  }
});
