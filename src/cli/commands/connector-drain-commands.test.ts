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

test('connectors drain records the drain in the store and undrain clears it', async () => {
  await edge.store.groups.create({ name: 'cli-drain' });
  await edge.store.provisioningKeys.create({ id: 'cli-k', group: 'cli-drain', secretHash: 'h' });
  await edge.store.connectors.create({
    id: 'cli-c',
    group: 'cli-drain',
    keyId: 'cli-k',
    ephemeral: false,
    certSerial: '01',
    certNotAfter: Date.now() + 3_600_000,
  });
  const drained = await run(['connectors', 'drain', 'cli-c']);
  assert.equal(drained.code, 0, drained.stderr);
  assert.equal(drained.stdout, 'draining cli-c\n');
  assert.equal(typeof (await edge.store.connectors.get('cli-c'))?.drainingSince, 'number');

  const undrained = await run(['connectors', 'undrain', 'cli-c']);
  assert.equal(undrained.code, 0, undrained.stderr);
  assert.equal((await edge.store.connectors.get('cli-c'))?.drainingSince, undefined);

  const missing = await run(['connectors', 'drain', 'nope']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /POSTERN_ERR_NOT_FOUND|not found/i);
});
