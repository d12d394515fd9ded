import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import type { Configuration } from '../../config/index.js';
import { parseHostPort } from '../../config/index.js';
import { trafficErrors } from '../../traffic/index.js';
import { listenProblem } from './apply-failure.js';
import { ConfigImporter } from './config-importer.js';
import { importConfigTree } from './import-tree.js';
import { put, tempDir } from './test-kit.js';

const cleanup: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

/** A listener on a free 127.0.0.1 port, closed after the tests: the occupied address. */
async function occupiedPort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.push(() => new Promise((resolve) => server.close(resolve)));
  return (server.address() as AddressInfo).port;
}

/**
 * Binds every enabled virtual server's address as the edge does, rejecting with the traffic
 * layer's error and the operating system's error as its cause; closes what it bound.
 */
async function bindAll(config: Configuration): Promise<void> {
  const bound: net.Server[] = [];
  try {
    for (const vs of config.virtual_servers.filter((v) => v.enabled)) {
      const { host, port } = parseHostPort(vs.listen);
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err) =>
          reject(trafficErrors.listenFailed(vs.name, `${host}:${port}`, err)),
        );
        server.listen({ host, port }, resolve);
      });
      bound.push(server);
    }
  } finally {
    await Promise.all(bound.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

/** A port free a moment ago on 127.0.0.1, for a server that must bind. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function configDir(files: Record<string, string>): Promise<string> {
  const dir = await tempDir('postern-apply-failure-');
  cleanup.push(() => dir.remove());
  for (const [name, text] of Object.entries(files)) await put(dir.path, name, text);
  return dir.path;
}

const pools = 'version: 1\npools:\n  - {name: web, nodes: [{address: "10.0.0.1:80"}]}\n';

function servers(...listens: string[]): string {
  return [
    'version: 1', // 1
    'virtual_servers:', // 2
    ...listens.map((listen, i) => `  - {name: vs${i}, listen: "${listen}", pool: web}`),
  ].join('\n');
}

test('a listen address in use is reported at that virtual server`s listen field', async () => {
  const [taken, free] = [await occupiedPort(), await freePort()];
  const dir = await configDir({
    '00-pools.yaml': pools,
    'sites/web.yaml': servers(`127.0.0.1:${free}`, `127.0.0.1:${taken}`),
  });
  const { config } = await importConfigTree(dir);
  const err = await bindAll(config).then(
    () => assert.fail('binding an occupied port succeeded'),
    (e: unknown) => e,
  );
  const problem = listenProblem(err, { config, generation: 7 });
  assert.ok(problem, 'the failure is located');
  assert.deepEqual(
    [problem.file, problem.line, problem.column, problem.path, problem.code],
    ['sites/web.yaml', 4, 25, 'virtual_servers[1].listen', 'POSTERN_ERR_LISTEN_FAILED'],
  );
  assert.equal(
    problem.message,
    `virtual server "vs1" cannot listen on 127.0.0.1:${taken}: the address is already in use ` +
      '(EADDRINUSE); choose a free address or stop what holds it. Generation 7 was not ' +
      'applied; the previous generation keeps running',
  );
});

test('a failure that is not about a listen address of the configuration is not located', async () => {
  const taken = await occupiedPort();
  const dir = await configDir({ '00-pools.yaml': pools, 'vs.yaml': servers('127.0.0.1:1') });
  const { config } = await importConfigTree(dir);
  assert.equal(listenProblem(new Error('disk full'), { config, generation: 2 }), undefined);
  // The address that failed belongs to no virtual server of these documents (an API object).
  const blocker = net.createServer();
  const osError = await new Promise<Error>((resolve) => {
    blocker.once('error', resolve);
    blocker.listen({ host: '127.0.0.1', port: taken });
  });
  const apiServer = trafficErrors.listenFailed('from-api', `127.0.0.1:${taken}`, osError);
  assert.equal(listenProblem(apiServer, { config, generation: 2 }), undefined);
});

test('the importer status names the file, line and path of the listen that could not bind', async () => {
  const [taken, free] = [await occupiedPort(), await freePort()];
  const dir = await configDir({ '00-pools.yaml': pools, 'vs.yaml': servers(`127.0.0.1:${free}`) });
  const importer = new ConfigImporter(dir, {
    onConfiguration: (config) => bindAll(config),
    watch: false,
    rescanIntervalMs: 0,
  });
  cleanup.push(() => importer.stop());
  assert.deepEqual(await importer.start(), { ok: true, generation: 1 });
  await put(dir, 'vs.yaml', servers(`127.0.0.1:${free}`, `127.0.0.1:${taken}`));
  const status = await importer.refresh();
  assert.equal(status.ok, false);
  assert.equal(status.code, 'POSTERN_ERR_CONFIG_APPLY');
  assert.equal(status.generation, 1);
  assert.deepEqual(
    status.problems.map((p) => [p.file, p.line, p.path, p.code]),
    [['vs.yaml', 4, 'virtual_servers[1].listen', 'POSTERN_ERR_LISTEN_FAILED']],
  );
  assert.match(status.problems[0]!.message, /Generation 2 was not applied/);
});
