import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestEdge, type TestEdge } from '../../../test/harness/harness.js';
import { runAdminCli } from './test-admin-cli.js';

let edge: TestEdge;
before(async () => {
  edge = await startTestEdge();
});
after(async () => {
  await edge.stop();
});

const run = (args: string[]) => runAdminCli(edge, args);

async function seedConnector(group: string, id: string): Promise<void> {
  await edge.store.groups.create({ name: group });
  await edge.store.provisioningKeys.create({ id: `${id}-k`, group, secretHash: 'h' });
  await edge.store.connectors.create({
    id,
    group,
    keyId: `${id}-k`,
    ephemeral: false,
    certSerial: '01',
    certNotAfter: Date.now() + 3_600_000,
  });
}

test('groups delete is refused while a live connector remains and works once it is deleted', async () => {
  await seedConnector('cli-del', 'cli-del-c');
  const refused = await run(['groups', 'delete', 'cli-del']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /POSTERN_ERR_CONFLICT/);
  assert.match(refused.stderr, /postern connectors delete <id>/);
  assert.ok(await edge.store.groups.get('cli-del'), 'the refused delete changed nothing');

  assert.equal((await run(['connectors', 'delete', 'cli-del-c'])).code, 0);
  const deleted = await run(['groups', 'delete', 'cli-del']);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.equal(deleted.stdout, 'deleted group cli-del\n');
  assert.equal(await edge.store.groups.get('cli-del'), undefined);
  assert.equal(await edge.store.connectors.get('cli-del-c'), undefined);

  const missing = await run(['groups', 'delete', 'cli-del']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /POSTERN_ERR_NOT_FOUND/);
});

test('keys enable on a revoked key fails with "revoked for good" and the key stays revoked', async () => {
  await edge.store.groups.create({ name: 'cli-rev' });
  await edge.store.provisioningKeys.create({ id: 'cli-rev-k', group: 'cli-rev', secretHash: 'h' });
  await edge.store.provisioningKeys.setEnabled('cli-rev-k', false);
  await edge.store.provisioningKeys.revoke('cli-rev-k');
  const res = await run(['keys', 'enable', 'cli-rev-k']);
  assert.equal(res.code, 1);
  assert.equal(res.stdout, '', 'no "enabled" line');
  assert.match(res.stderr, /revoked for good/);
  assert.match(res.stderr, /POSTERN_ERR_KEY_REVOKED/);
  assert.equal((await edge.store.provisioningKeys.get('cli-rev-k'))?.enabled, false);
});

test('keys create and keys update refuse a --max-usage that is not a whole number in range', async () => {
  await edge.store.groups.create({ name: 'cli-max' });
  for (const bad of ['abc', '0', '1.5', '100001', '-3']) {
    const res = await run(['keys', 'create', '--group', 'cli-max', `--max-usage=${bad}`]);
    assert.equal(res.code, 1, bad);
    assert.match(res.stderr, /--max-usage must be a whole number from 1 to 100000/, bad);
    assert.doesNotMatch(res.stderr, /expected number/, bad);
  }
  assert.deepEqual(await edge.store.provisioningKeys.list({ group: 'cli-max' }), []);
  const update = await run(['keys', 'update', 'whatever', '--max-usage', 'lots']);
  assert.equal(update.code, 1);
  assert.match(update.stderr, /--max-usage must be a whole number/);
});

test('keys update --max-usage raises the limit of an exhausted key, as the exhausted error says', async () => {
  await edge.store.groups.create({ name: 'cli-upd' });
  await edge.store.provisioningKeys.create({
    id: 'cli-upd-k',
    group: 'cli-upd',
    secretHash: 'h',
    maxUsage: 1,
  });
  await edge.store.provisioningKeys.consume('cli-upd-k', { now: Date.now() });
  const exhausted = await edge.store.provisioningKeys
    .consume('cli-upd-k', { now: Date.now() })
    .then(
      () => assert.fail('a second use of a 1-use key was accepted'),
      (err: Error) => err,
    );
  assert.match(exhausted.message, /`postern keys update cli-upd-k --max-usage <n>`/);

  const res = await run(['keys', 'update', 'cli-upd-k', '--max-usage', '5']);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stdout, 'updated cli-upd-k: max_usage 5 (used 1)\n');
  assert.equal((await edge.store.provisioningKeys.get('cli-upd-k'))?.maxUsage, 5);
  await edge.store.provisioningKeys.consume('cli-upd-k', { now: Date.now() });

  const missing = await run(['keys', 'update', 'no-such-key', '--max-usage', '5']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /POSTERN_ERR_NOT_FOUND/);
});

test('keys list shows each key state, expired included, and its source CIDRs', async () => {
  const keys = edge.store.provisioningKeys;
  await edge.store.groups.create({ name: 'cli-list' });
  const key = (id: string, extra: { maxUsage?: number; expiresAt?: number } = {}) =>
    keys.create({ id, group: 'cli-list', secretHash: 'h', ...extra });
  await keys.create({
    id: 'ls-enabled',
    group: 'cli-list',
    secretHash: 'h',
    sourceCidrs: ['10.0.0.0/8', '192.168.1.0/24'],
  });
  await key('ls-disabled');
  await keys.setEnabled('ls-disabled', false);
  await key('ls-expired', { expiresAt: Date.now() - 60_000 });
  await key('ls-revoked');
  await keys.revoke('ls-revoked');
  await key('ls-exhausted', { maxUsage: 1 });
  await keys.consume('ls-exhausted', { now: Date.now() });

  const res = await run(['keys', 'list', '--group', 'cli-list']);
  assert.equal(res.code, 0, res.stderr);
  const [header, ...lines] = res.stdout.trimEnd().split('\n');
  assert.deepEqual(header?.split(/\s+/), [
    'ID',
    'GROUP',
    'STATE',
    'USAGE_COUNT',
    'MAX_USAGE',
    'EXPIRES_AT',
    'SOURCE_CIDRS',
  ]);
  const state = Object.fromEntries(
    lines.map((l) => l.split(/\s+/)).map((c): [string, string] => [c[0] ?? '', c[2] ?? '']),
  );
  assert.deepEqual(state, {
    'ls-enabled': 'enabled',
    'ls-disabled': 'disabled',
    'ls-expired': 'expired',
    'ls-revoked': 'revoked',
    'ls-exhausted': 'exhausted',
  });
  const enabledLine = lines.find((l) => l.startsWith('ls-enabled')) ?? '';
  assert.match(enabledLine, /10\.0\.0\.0\/8,192\.168\.1\.0\/24$/);

  const json = await run(['keys', 'list', '--group', 'cli-list', '--json']);
  const items = JSON.parse(json.stdout) as { id: string; source_cidrs?: string[] }[];
  assert.deepEqual(items.find((k) => k.id === 'ls-enabled')?.source_cidrs, [
    '10.0.0.0/8',
    '192.168.1.0/24',
  ]);
});
