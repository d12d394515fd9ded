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

const run = (args: string[], token = edge.adminToken) => runAdminCli(edge, args, token);

test('tokens create prints a working secret once; list shows it without; revoke ends it', async () => {
  const created = await run(['tokens', 'create', 'ci-bot', '--role', 'viewer', '--expires', '1d']);
  assert.equal(created.code, 0, created.stderr);
  const secret = created.stdout.trim();
  assert.match(secret, /^pt1\.t[0-9a-f]+\.[A-Za-z0-9_-]+$/);
  const asViewer = await fetch(`${edge.adminUrl}/api/v1/pools`, {
    headers: { authorization: `Bearer ${secret}` },
  });
  assert.equal(asViewer.status, 200);

  const listed = await run(['tokens', 'list', '--json']);
  assert.equal(listed.code, 0, listed.stderr);
  const rows = JSON.parse(listed.stdout) as { id: string; name: string; role: string }[];
  const row = rows.find((r) => r.name === 'ci-bot');
  assert.equal(row?.role, 'viewer');
  assert.ok(!listed.stdout.includes(secret.split('.')[2]!), 'list never shows the secret');

  const denied = await run(['tokens', 'list'], secret);
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /POSTERN_ERR_FORBIDDEN|role "viewer"/);

  const revoked = await run(['tokens', 'revoke', row?.id ?? '']);
  assert.equal(revoked.code, 0, revoked.stderr);
  const after = await fetch(`${edge.adminUrl}/api/v1/pools`, {
    headers: { authorization: `Bearer ${secret}` },
  });
  assert.equal(after.status, 401);
});
