// Documents and objects created through the admin API make one configuration: each may refer
// to the other, and a problem between them names the API object by its API path and the
// document's object by file, line and path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigProblem } from '../../src/config/index.js';
import type { ImportStatus } from '../../src/control/index.js';
import {
  freePort,
  roundTrip,
  startEchoServer,
  startTestEdge,
  tempDir,
} from '../harness/harness.js';
import type { TestEdge } from '../harness/harness.js';

/** Imports the configuration directory now (without forcing) and returns the status. */
async function importNow(edge: TestEdge): Promise<ImportStatus> {
  assert.ok(edge.importer, 'the edge was started with a configuration directory');
  return edge.importer.refresh();
}

function only(status: ImportStatus): ConfigProblem {
  assert.equal(status.problems.length, 1, JSON.stringify(status.problems));
  return status.problems[0]!;
}

test('documents may use a connector group and a pool created through the API, also after a restart', async () => {
  const app = await startEchoServer();
  const configDir = await tempDir('postern-merge-');
  const dataDir = await tempDir('postern-merge-edge-');
  const port = await freePort();
  let edge = await startTestEdge({ configDir, dataDir });
  try {
    assert.equal((await edge.api('POST', '/connector-groups', { name: 'cligrp' })).status, 201);
    const pool = { name: 'apip', nodes: [{ address: app.address }] };
    assert.equal((await edge.api('POST', '/pools', pool)).status, 201);
    await writeFile(
      join(configDir, '10-site.yaml'),
      [
        'version: 1',
        'pools:',
        '  - name: grp-pool',
        '    via: cligrp',
        '    nodes: [{address: "10.0.0.1:80"}]',
        'virtual_servers:',
        '  - name: site',
        '    protocol: tcp',
        `    listen: 127.0.0.1:${port}`,
        '    pool: apip',
        '',
      ].join('\n'),
    );
    const status = await importNow(edge);
    assert.deepEqual(status.problems, []);
    assert.equal(status.ok, true);
    const grpPool = await edge.api<{ owner: string; via: string }>('GET', '/pools/grp-pool');
    assert.equal(grpPool.body.owner, 'document:10-site.yaml');
    assert.equal(grpPool.body.via, 'cligrp');
    assert.equal((await roundTrip(port, Buffer.from('via api pool'))).toString(), 'via api pool');

    // The API pool cannot go while a document uses it; the problem names the document's line.
    const del = await edge.api<{ error: { code: string; problems: ConfigProblem[] } }>(
      'DELETE',
      '/pools/apip',
    );
    assert.equal(del.status, 409);
    assert.equal(del.body.error.code, 'POSTERN_ERR_CONFLICT');
    const [problem] = del.body.error.problems;
    assert.ok(problem, JSON.stringify(del.body));
    assert.equal(problem.file, '10-site.yaml');
    assert.equal(problem.line, 10);
    assert.equal(problem.path, 'virtual_servers[0].pool');
    assert.match(
      problem.message,
      /^pool "apip" \(created through the API, \/api\/v1\/pools\/apip\) would no longer exist/,
    );
    assert.equal((await edge.api('GET', '/pools/apip')).status, 200);

    // On a restart the documents are checked with the stored API objects too.
    await edge.stop();
    edge = await startTestEdge({ configDir, dataDir });
    assert.equal((await roundTrip(port, Buffer.from('restarted'))).toString(), 'restarted');
  } finally {
    await edge.stop();
    await app.close();
    await rm(configDir, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('removing a document pool that an API virtual server uses is refused, naming both', async () => {
  const app = await startEchoServer();
  const configDir = await tempDir('postern-merge-');
  const port = await freePort();
  await writeFile(
    join(configDir, '90-w.yaml'),
    `version: 1\npools:\n  - name: wp\n    nodes: [{address: "${app.address}"}]\n`,
  );
  const edge = await startTestEdge({ configDir });
  try {
    const vs = { name: 'apiv', protocol: 'tcp', listen: `127.0.0.1:${port}`, pool: 'wp' };
    assert.equal((await edge.api('POST', '/virtual-servers', vs)).status, 201);
    const generation = edge.runtime.generation;

    await rm(join(configDir, '90-w.yaml'));
    const status = await importNow(edge);
    assert.equal(status.ok, false);
    assert.equal(status.code, 'POSTERN_ERR_CONFIG_REFERENCE');
    const problem = only(status);
    assert.equal(problem.file, '/api/v1/virtual-servers/apiv');
    assert.equal(problem.path, 'pool');
    assert.match(
      problem.message,
      /^virtual server "apiv" \(created through the API\) uses pool "wp", which 90-w\.yaml no longer defines/,
    );
    const shown = await edge.api<ImportStatus>('GET', '/import/status');
    assert.deepEqual(shown.body.problems, status.problems);
    // The running generation stays: the pool still serves the API virtual server.
    assert.equal(edge.runtime.generation, generation);
    assert.equal((await roundTrip(port, Buffer.from('still here'))).toString(), 'still here');

    // Once the API object is gone, the same documents import without any file changing.
    assert.equal((await edge.api('DELETE', '/virtual-servers/apiv')).status, 204);
    const after = await importNow(edge);
    assert.equal(after.ok, true, JSON.stringify(after.problems));
    assert.equal((await edge.api('GET', '/pools/wp')).status, 404);
  } finally {
    await edge.stop();
    await app.close();
    await rm(configDir, { recursive: true, force: true });
  }
});

test('a document virtual server on the listen address of an API one is refused at its line', async () => {
  const app = await startEchoServer();
  const configDir = await tempDir('postern-merge-');
  const port = await freePort();
  const edge = await startTestEdge({ configDir });
  try {
    await edge.api('POST', '/pools', { name: 'apipool', nodes: [{ address: app.address }] });
    const vs = { name: 'api-web', protocol: 'tcp', listen: `127.0.0.1:${port}`, pool: 'apipool' };
    assert.equal((await edge.api('POST', '/virtual-servers', vs)).status, 201);
    const generation = edge.runtime.generation;
    await writeFile(
      join(configDir, '20-clash.yaml'),
      [
        'version: 1',
        'virtual_servers:',
        '  - name: docvs',
        '    protocol: tcp',
        `    listen: 127.0.0.1:${port}`,
        '    pool: apipool',
        '',
      ].join('\n'),
    );
    const status = await importNow(edge);
    assert.equal(status.ok, false);
    assert.equal(status.code, 'POSTERN_ERR_CONFIG_REFERENCE');
    const problem = only(status);
    assert.equal(problem.file, '20-clash.yaml');
    assert.equal(problem.line, 5);
    assert.equal(problem.path, 'virtual_servers[0].listen');
    assert.match(
      problem.message,
      /clashes with virtual server "api-web" \(created through the API, \/api\/v1\/virtual-servers\/api-web/,
    );
    assert.equal(edge.runtime.generation, generation);
    assert.equal((await roundTrip(port, Buffer.from('api-web'))).toString(), 'api-web');
  } finally {
    await edge.stop();
    await app.close();
    await rm(configDir, { recursive: true, force: true });
  }
});

test('an API virtual server on the listen address of a document one is refused, naming the document line', async () => {
  const configDir = await tempDir('postern-merge-');
  const port = await freePort();
  await writeFile(
    join(configDir, '30-doc.yaml'),
    [
      'version: 1',
      'pools:',
      '  - name: docpool',
      '    nodes: [{address: "127.0.0.1:9"}]',
      'virtual_servers:',
      '  - name: docvs',
      `    listen: 127.0.0.1:${port}`,
      '    pool: docpool',
      '',
    ].join('\n'),
  );
  const edge = await startTestEdge({ configDir });
  try {
    const vs = { name: 'api2', listen: `127.0.0.1:${port}`, pool: 'docpool' };
    const res = await edge.api<{ error: { code: string; problems: ConfigProblem[] } }>(
      'POST',
      '/virtual-servers',
      vs,
    );
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'POSTERN_ERR_CONFIG_REFERENCE');
    const [problem] = res.body.error.problems;
    assert.ok(problem, JSON.stringify(res.body));
    assert.equal(problem.file, '30-doc.yaml');
    assert.equal(problem.line, 7);
    assert.match(problem.message, /virtual server "api2" \(created through the API/);
    assert.equal((await edge.api('GET', '/virtual-servers/api2')).status, 404);
  } finally {
    await edge.stop();
    await rm(configDir, { recursive: true, force: true });
  }
});

test('a document naming a pool that neither documents nor the API define stops the start at its line', async () => {
  const configDir = await tempDir('postern-merge-');
  await writeFile(
    join(configDir, '40-vs.yaml'),
    [
      'version: 1',
      'virtual_servers:',
      '  - name: lonely',
      `    listen: 127.0.0.1:${await freePort()}`,
      '    pool: nowhere',
      '',
    ].join('\n'),
  );
  await assert.rejects(startTestEdge({ configDir }), (err: { code: string; message: string }) => {
    assert.equal(err.code, 'POSTERN_ERR_CONFIG_REFERENCE');
    assert.match(
      err.message,
      /40-vs\.yaml:5:11 virtual_servers\[0\]\.pool: pool "nowhere" does not exist/,
    );
    return true;
  });
  await rm(configDir, { recursive: true, force: true });
});
