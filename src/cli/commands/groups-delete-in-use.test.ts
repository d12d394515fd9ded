import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { startTestEdge, tempDir } from '../../../test/harness/harness.js';
import { runAdminCli } from './test-admin-cli.js';

test('groups delete of a group still in use fails with one line naming each user, numbered', async () => {
  const configDir = await tempDir('small-cli-inuse-');
  const edge = await startTestEdge({ configDir });
  try {
    assert.equal((await edge.api('POST', '/connector-groups', { name: 'dc1' })).status, 201);
    const pool = { name: 'apipool', via: 'dc1', nodes: [{ address: '10.0.0.2:80' }] };
    assert.equal((await edge.api('POST', '/pools', pool)).status, 201);
    await writeFile(
      join(configDir, '30-apps.yaml'),
      [
        'version: 1',
        'applications:',
        '  - name: crm',
        '    domains: [crm.corp]',
        '    ports: ["443"]',
        '    connector_groups: [dc1]',
        '',
      ].join('\n'),
    );
    const imported = await edge.importer?.refresh();
    assert.equal(imported?.ok, true, JSON.stringify(imported?.problems));

    const refused = await runAdminCli(edge, ['groups', 'delete', 'dc1']);
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout, '', 'no "deleted group" line');
    const lines = refused.stderr.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1, refused.stderr);
    const [line] = lines as [string];
    assert.match(line, /^postern: Connector group "dc1" is still used by 2 objects/);
    assert.match(line, / 1\) \/api\/v1\/pools\/apipool via: pool "apipool"/);
    assert.match(line, / 2\) 30-apps\.yaml:6:\d+ applications\[0\]\.connector_groups\[0\]: /);
    assert.match(line, /\(POSTERN_ERR_CONFLICT\)$/);
    assert.equal((await edge.api('GET', '/connector-groups/dc1')).status, 200);
  } finally {
    await edge.stop();
    await rm(configDir, { recursive: true, force: true });
  }
});
