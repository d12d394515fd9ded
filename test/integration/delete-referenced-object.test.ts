// Deleting an object that the configuration in force still uses is refused through the admin
// API, naming each user: a document object by file, line and path, an API object by its path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigProblem } from '../../src/config/index.js';
import { freePort, startEchoServer, startTestEdge, tempDir } from '../harness/harness.js';

interface Refusal {
  error: { code: string; message: string; problems: ConfigProblem[] };
}

/** `file line path` of each problem, sorted, for one comparison. */
function where(problems: readonly ConfigProblem[]): string[] {
  return problems.map((p) => `${p.file} ${p.line ?? 0} ${p.path}`).sort();
}

test('a connector group used by a document pool, an API pool and an API application cannot be deleted', async () => {
  const configDir = await tempDir('small-delref-');
  const edge = await startTestEdge({ configDir });
  try {
    assert.equal((await edge.api('POST', '/connector-groups', { name: 'dc1' })).status, 201);
    assert.equal((await edge.api('POST', '/connector-groups', { name: 'spare' })).status, 201);
    const pool = { name: 'apipool', via: 'dc1', nodes: [{ address: '10.0.0.2:80' }] };
    assert.equal((await edge.api('POST', '/pools', pool)).status, 201);
    const app = { name: 'crm', domains: ['crm.corp'], ports: ['443'], connector_groups: ['dc1'] };
    assert.equal((await edge.api('POST', '/applications', app)).status, 201);
    await writeFile(
      join(configDir, '20-site.yaml'),
      [
        'version: 1', //                           1
        'pools:', //                               2
        '  - name: docpool', //                    3
        '    via: dc1', //                         4
        '    nodes: [{address: "10.0.0.1:80"}]', //5
        '',
      ].join('\n'),
    );
    const imported = await edge.importer?.refresh();
    assert.equal(imported?.ok, true, JSON.stringify(imported?.problems));
    const generation = edge.runtime.generation;
    const key = await edge.createKey('dc1');

    const refused = await edge.api<Refusal>('DELETE', '/connector-groups/dc1');
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'POSTERN_ERR_CONFLICT');
    assert.deepEqual(where(refused.body.error.problems), [
      '/api/v1/applications/crm 0 connector_groups[0]',
      '/api/v1/pools/apipool 0 via',
      '20-site.yaml 4 pools[0].via',
    ]);
    const byFile = new Map(refused.body.error.problems.map((p) => [p.file, p.message]));
    assert.match(
      byFile.get('20-site.yaml') ?? '',
      /^connector group "dc1" \(created through the API, \/api\/v1\/connector-groups\/dc1\) would no longer exist/,
    );
    assert.match(
      byFile.get('/api/v1/pools/apipool') ?? '',
      /^pool "apipool" \(created through the API\) uses connector group "dc1" .*would no longer exist; first change or delete the pool \(PUT or DELETE \/api\/v1\/pools\/apipool\)/,
    );
    // The message alone (what the CLI prints) names every user too.
    for (const user of ['20-site.yaml:4:10', '/api/v1/pools/apipool', '/api/v1/applications/crm'])
      assert.ok(refused.body.error.message.includes(user), refused.body.error.message);

    // Nothing changed: the group, its key and the running configuration stay.
    assert.equal((await edge.api('GET', '/connector-groups/dc1')).status, 200);
    assert.equal((await edge.api('GET', `/provisioning-keys/${key.id}`)).status, 200);
    assert.equal(edge.runtime.generation, generation);
    // A group nobody uses still goes.
    assert.equal((await edge.api('DELETE', '/connector-groups/spare')).status, 204);

    // With the users gone (the document one in its file), the group goes, and imports still work.
    assert.equal((await edge.api('DELETE', '/pools/apipool')).status, 204);
    const left = await edge.api<Refusal>('DELETE', '/connector-groups/dc1');
    assert.equal(left.status, 409);
    assert.deepEqual(where(left.body.error.problems), [
      '/api/v1/applications/crm 0 connector_groups[0]',
      '20-site.yaml 4 pools[0].via',
    ]);
    assert.equal((await edge.api('DELETE', '/applications/crm')).status, 204);
    await writeFile(join(configDir, '20-site.yaml'), 'version: 1\n');
    const emptied = await edge.importer?.refresh();
    assert.equal(emptied?.ok, true, JSON.stringify(emptied?.problems));
    assert.equal((await edge.api('DELETE', '/connector-groups/dc1')).status, 204);
    assert.equal((await edge.api('GET', '/connector-groups/dc1')).status, 404);
    const again = await edge.importer?.refresh({ force: true });
    assert.equal(again?.ok, true, JSON.stringify(again?.problems));
  } finally {
    await edge.stop();
    await rm(configDir, { recursive: true, force: true });
  }
});

test('a pool used by an API and a document virtual server, and a monitor used by an API pool, cannot be deleted: 409 naming each user', async () => {
  const app = await startEchoServer();
  const configDir = await tempDir('small-delref-pool-');
  const edge = await startTestEdge({ configDir });
  try {
    const monitor = { name: 'probe', type: 'tcp' };
    assert.equal((await edge.api('POST', '/monitors', monitor)).status, 201);
    const pool = { name: 'web', monitors: ['probe'], nodes: [{ address: app.address }] };
    assert.equal((await edge.api('POST', '/pools', pool)).status, 201);
    const vs = {
      name: 'front',
      protocol: 'tcp',
      listen: `127.0.0.1:${await freePort()}`,
      pool: 'web',
    };
    assert.equal((await edge.api('POST', '/virtual-servers', vs)).status, 201);
    await writeFile(
      join(configDir, '20-site.yaml'),
      [
        'version: 1', //                                   1
        'virtual_servers:', //                             2
        '  - name: docfront', //                           3
        '    protocol: tcp', //                            4
        `    listen: "127.0.0.1:${await freePort()}"`, //  5
        '    pool: web', //                                6
        '',
      ].join('\n'),
    );
    const imported = await edge.importer?.refresh();
    assert.equal(imported?.ok, true, JSON.stringify(imported?.problems));
    const generation = edge.runtime.generation;

    const poolRefused = await edge.api<Refusal>('DELETE', '/pools/web');
    assert.equal(poolRefused.status, 409, JSON.stringify(poolRefused.body));
    assert.equal(poolRefused.body.error.code, 'POSTERN_ERR_CONFLICT');
    assert.deepEqual(where(poolRefused.body.error.problems), [
      '/api/v1/virtual-servers/front 0 pool',
      '20-site.yaml 6 virtual_servers[0].pool',
    ]);
    const byFile = new Map(poolRefused.body.error.problems.map((p) => [p.file, p.message]));
    assert.match(
      byFile.get('/api/v1/virtual-servers/front') ?? '',
      /^virtual server "front" \(created through the API\) uses pool "web" \(created through the API, \/api\/v1\/pools\/web\), which would no longer exist; first change or delete the virtual server \(PUT or DELETE \/api\/v1\/virtual-servers\/front\)$/,
    );
    assert.match(
      byFile.get('20-site.yaml') ?? '',
      /^pool "web" \(created through the API, \/api\/v1\/pools\/web\) would no longer exist/,
    );
    const message = poolRefused.body.error.message;
    assert.match(
      message,
      /^Pool "web" is still used by 2 objects of the configuration, so nothing was deleted\. .*then delete the pool again:\n {2}1\) /,
    );
    for (const user of ['20-site.yaml:6:', '/api/v1/virtual-servers/front'])
      assert.ok(message.includes(user), message);
    assert.equal((await edge.api('GET', '/pools/web')).status, 200);

    const monitorRefused = await edge.api<Refusal>('DELETE', '/monitors/probe');
    assert.equal(monitorRefused.status, 409, JSON.stringify(monitorRefused.body));
    assert.equal(monitorRefused.body.error.code, 'POSTERN_ERR_CONFLICT');
    assert.deepEqual(where(monitorRefused.body.error.problems), [
      '/api/v1/pools/web 0 monitors[0]',
    ]);
    assert.match(
      monitorRefused.body.error.problems[0]?.message ?? '',
      /^pool "web" \(created through the API\) uses monitor "probe" \(created through the API, \/api\/v1\/monitors\/probe\), which would no longer exist/,
    );
    assert.match(
      monitorRefused.body.error.message,
      /^Monitor "probe" is still used by one object of the configuration, so nothing was deleted\. .*then delete the monitor again:\n {2}1\) \/api\/v1\/pools\/web monitors\[0\]: /,
    );
    assert.equal((await edge.api('GET', '/monitors/probe')).status, 200);
    // Nothing changed: the refusals did not touch the store or the running configuration.
    assert.equal(edge.runtime.generation, generation);

    // Objects nobody uses still go (204), and so does each object once its users are gone.
    assert.equal((await edge.api('POST', '/monitors', { name: 'spare', type: 'tcp' })).status, 201);
    assert.equal((await edge.api('DELETE', '/monitors/spare')).status, 204);
    assert.equal((await edge.api('DELETE', '/virtual-servers/front')).status, 204);
    await writeFile(join(configDir, '20-site.yaml'), 'version: 1\n');
    const emptied = await edge.importer?.refresh();
    assert.equal(emptied?.ok, true, JSON.stringify(emptied?.problems));
    assert.equal((await edge.api('DELETE', '/pools/web')).status, 204);
    assert.equal((await edge.api('DELETE', '/monitors/probe')).status, 204);
    assert.equal((await edge.api('GET', '/monitors/probe')).status, 404);
  } finally {
    await edge.stop();
    await app.close();
    await rm(configDir, { recursive: true, force: true });
  }
});

test('an API application used by an API access policy is refused with 409 too, and the OpenAPI document lists the 409', async () => {
  const edge = await startTestEdge();
  try {
    assert.equal((await edge.api('POST', '/connector-groups', { name: 'dc1' })).status, 201);
    const app = { name: 'crm', domains: ['crm.corp'], ports: ['443'], connector_groups: ['dc1'] };
    assert.equal((await edge.api('POST', '/applications', app)).status, 201);
    const policy = {
      name: 'staff',
      action: 'allow',
      conditions: { applications: ['crm'] },
    };
    const created = await edge.api('POST', '/access-policies', policy);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const refused = await edge.api<Refusal>('DELETE', '/applications/crm');
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'POSTERN_ERR_CONFLICT');
    assert.deepEqual(where(refused.body.error.problems), [
      '/api/v1/access-policies/staff 0 conditions.applications[0]',
    ]);
    assert.match(refused.body.error.message, /^Application "crm" is still used by one object/);
    assert.equal((await edge.api('DELETE', '/access-policies/staff')).status, 204);
    assert.equal((await edge.api('DELETE', '/applications/crm')).status, 204);

    const res = await fetch(`${edge.adminUrl}/api/v1/openapi.json`);
    const doc = (await res.json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    for (const path of ['/api/v1/pools/{name}', '/api/v1/connector-groups/{name}'])
      assert.ok(doc.paths[path]?.delete?.responses['409'], path);
  } finally {
    await edge.stop();
  }
});
