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

const timeouts = { idleTimeoutMs: 0, reauthenticationTimeoutMs: 3_600_000 };
const dana = { subject: 'u-dana', email: 'dana@example.com', groups: ['eng'], idp: 'corp' };

test('users revoke ends the user’s sessions and says so; others keep theirs', async () => {
  const sessions = edge.browserAccess.pages.sessions;
  const secret = await sessions.create(dana, 'wiki');
  const other = await sessions.create({ ...dana, subject: 'u-eve' }, 'wiki');
  const run = await runAdminCli(edge, [
    'users',
    'revoke',
    '--identity-provider',
    'corp',
    '--subject',
    'u-dana',
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stdout,
    /^revoked corp:u-dana: 1 browser session\(s\) ended; credentials issued before \S+Z are refused\n$/,
  );
  assert.deepEqual(await sessions.check(secret, 'wiki', timeouts), { miss: 'unknown' });
  assert.ok('session' in (await sessions.check(other, 'wiki', timeouts)));
  const read = await edge.api<{ subject: string }>('GET', '/user-revocations/corp:u-dana');
  assert.equal(read.status, 200);
  assert.equal(read.body.subject, 'u-dana');
});

test('users revoke needs both flags and an admin token', async () => {
  const missing = await runAdminCli(edge, ['users', 'revoke', '--subject', 'u-dana']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /--identity-provider/);
  const created = await edge.api<{ secret: string }>('POST', '/admin-tokens', {
    name: 'users-operator',
    role: 'operator',
  });
  const denied = await runAdminCli(
    edge,
    ['users', 'revoke', '--identity-provider', 'corp', '--subject', 'u-dana'],
    created.body.secret,
  );
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /POSTERN_ERR_FORBIDDEN|admin/);
});
