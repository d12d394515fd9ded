import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { IdentityStore } from '../../connector/index.js';
import { generateKeyPairAndCsr, loadCertificateAuthority } from '../../pki/index.js';
import {
  startTestConnector,
  startTestEdge,
  tempDir,
  type TestEdge,
} from '../../../test/harness/harness.js';

const CLI = fileURLToPath(new URL('../main.js', import.meta.url));

let edge: TestEdge;
before(async () => {
  edge = await startTestEdge();
});
after(async () => {
  await edge.stop();
});

/** Runs `postern connector …`; a connector that retries forever is killed after 20 s. */
function connector(args: string[]) {
  return new Promise<{ code: number | string; stderr: string; ms: number }>((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, POSTERN_LOG_LEVEL: 'error' };
    for (const name of ['POSTERN_PROVISION_KEY', 'POSTERN_EDGE', 'POSTERN_STATE_DIR'])
      delete env[name];
    const started = Date.now();
    execFile(
      process.execPath,
      [CLI, 'connector', ...args],
      { env, timeout: 20_000 },
      (err, _stdout, stderr) =>
        resolve({
          code: err ? ((err as { code?: number }).code ?? String(err.signal)) : 0,
          stderr,
          ms: Date.now() - started,
        }),
    );
  });
}

test('connector --edge with an address that is not host:port exits 1 at once', async () => {
  const run = await connector(['--edge', 'bogus', '--state-dir', await tempDir('postern-cc-')]);
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /"bogus".*is not host:port/);
  assert.ok(run.ms < 10_000, `took ${run.ms} ms`);
});

test('a connector whose certificate expired while offline, started without a key, exits 1 saying how to fix it', async () => {
  const key = await edge.createKey('cc-expired');
  const c = await startTestConnector({ provisionKey: key.value });
  const id = c.identity!.connectorId;
  await c.stop({ drainTimeoutMs: 100 });
  // Re-sign its key's certificate with the edge CA so that it expired a few minutes ago.
  const store = new IdentityStore(c.dir);
  const ca = await loadCertificateAuthority({
    certPem: await readFile(join(edge.dir, 'ca.crt'), 'utf8'),
    keyPem: await readFile(join(edge.dir, 'ca.key'), 'utf8'),
  });
  const { keyPem, csrPem } = await generateKeyPairAndCsr({ commonName: 'postern-connector' });
  const issued = await ca.issueClientCertificate(csrPem, {
    connectorId: id,
    group: 'cc-expired',
    validityMs: 60_000,
    clock: { now: () => Date.now() - 3 * 60_000 },
  });
  await store.saveRenewed(keyPem, issued.certPem);
  const run = await connector(['--state-dir', c.dir]);
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /expired at .* while it was offline/);
  assert.match(run.stderr, /--provision-key/);
  assert.ok(run.stderr.includes(`postern connectors delete ${id}`), run.stderr);
});

test('connector --drain-timeout that is not 0 to 3600 seconds exits 1 at start, naming the flag', async () => {
  // With a valid key the connector would otherwise enroll and run until SIGTERM, then cut every
  // session at once (NaN milliseconds of drain).
  const key = await edge.createKey('cc-drain-flag');
  for (const bad of ['abc', '30s', '-1']) {
    const state = await tempDir('postern-cc-');
    const run = await connector([
      '--provision-key',
      key.value,
      '--state-dir',
      state,
      '--drain-timeout',
      bad,
    ]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(
      run.stderr,
      new RegExp(
        `^postern: Invalid --drain-timeout: "${bad}" is not a number of seconds from 0 to 3600 \\(POSTERN_ERR_INVALID_ARGUMENT\\)$`,
        'm',
      ),
    );
  }
  const connectors = await edge.api<{ items: { group: string }[] }>('GET', '/connectors');
  assert.deepEqual(
    connectors.body.items.filter((c) => c.group === 'cc-drain-flag'),
    [],
    'nothing enrolled: the flag was checked before the connector started',
  );
});
