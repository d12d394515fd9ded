import assert from 'node:assert/strict';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { validateConfiguration } from '../../config/index.js';
import type { Configuration } from '../../config/index.js';
import type { ConfigImporterOptions, ImportInfo } from './config-importer.js';
import { ConfigImporter } from './config-importer.js';
import type { ImportStatus } from './import-status.js';
import { certificatePair, ConfigMapMount, fileRef, put, tempDir } from './test-kit.js';

/** Items as they arrive, awaited with a bound on time. */
class Events<T> {
  readonly items: T[] = [];
  #cursor = 0;
  #wake: (() => void) | undefined;

  push(item: T): void {
    this.items.push(item);
    this.#wake?.();
  }

  /** The next item after the last one taken that satisfies `match`; fails after `ms`. */
  async next(match: (item: T) => boolean = () => true, ms = 3000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      while (this.#cursor < this.items.length) {
        const item = this.items[this.#cursor++]!;
        if (match(item)) return item;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching event within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}

interface Applied {
  readonly config: Configuration;
  readonly info: ImportInfo;
  readonly at: number;
}

const running: { stop(): Promise<void> }[] = [];
const dirs: { remove(): Promise<void> }[] = [];
after(async () => {
  await Promise.all(running.map((r) => r.stop()));
  await Promise.all(dirs.map((d) => d.remove()));
});

async function root(): Promise<string> {
  const dir = await tempDir();
  dirs.push(dir);
  return dir.path;
}

function startImporter(dir: string, options: Partial<ConfigImporterOptions> = {}) {
  const applied = new Events<Applied>();
  const statuses = new Events<ImportStatus>();
  const logLines: string[] = [];
  const importer = new ConfigImporter(dir, {
    // As the edge does: references to names no document defines are checked where the
    // configuration is applied (with the objects created through the API).
    onConfiguration: (config, info) => {
      validateConfiguration(config);
      applied.push({ config, info, at: Date.now() });
    },
    onStatus: (status) => statuses.push(status),
    logger: pino({ level: 'info' }, { write: (line: string) => logLines.push(line) }),
    ...options,
  });
  running.push(importer);
  return { importer, applied, statuses, logLines };
}

const pool = (name: string, address: string) =>
  `version: 1\npools:\n  - name: ${name}\n    nodes: [{address: "${address}"}]\n`;

const firstAddress = (a: Applied) => a.config.pools[0]?.nodes[0]?.address;

test('a valid tree applies as generation 1, and an edited file applies within 1 s', async () => {
  const dir = await root();
  await put(dir, 'pools.yaml', pool('web', '10.0.0.1:80'));
  await put(
    dir,
    'sites/vs.json',
    JSON.stringify({
      version: 1,
      virtual_servers: [{ name: 'web', listen: '127.0.0.1:8080', pool: 'web' }],
    }),
  );
  const { importer, applied } = startImporter(dir, { rescanIntervalMs: 0 });
  assert.deepEqual(await importer.start(), { ok: true, generation: 1 });
  const first = await applied.next();
  assert.deepEqual(first.info, {
    generation: 1,
    files: ['pools.yaml', 'sites/vs.json'],
    referencedFiles: [],
  });
  assert.equal(first.config.virtual_servers[0]?.pool, 'web');

  const written = Date.now();
  await writeFile(join(dir, 'pools.yaml'), pool('web', '10.0.0.2:80'));
  const second = await applied.next();
  assert.equal(second.info.generation, 2);
  assert.equal(firstAddress(second), '10.0.0.2:80');
  assert.ok(second.at - written < 1000, `applied ${second.at - written} ms after the write`);
  const status = importer.status();
  assert.equal(status.generation, 2);
  assert.equal(status.ok, true);
  assert.deepEqual(status.problems, []);
  assert.equal(typeof status.lastSuccessAt, 'string');
  assert.equal(importer.configuration, second.config);
});

test('a broken document keeps the running generation, says why, and applies once fixed', async () => {
  const dir = await root();
  const good = pool('web', '10.0.0.1:80');
  await put(dir, 'pools.yaml', good);
  const registry = new Registry();
  const { importer, applied, statuses, logLines } = startImporter(dir, {
    rescanIntervalMs: 0,
    registry,
  });
  await importer.start();
  await applied.next();
  const broken = [
    ['syntax error', 'version: 1\npools:\n  - name: [web\n', 4, 'POSTERN_ERR_CONFIG_INVALID'],
    ['unknown key', `${good}    colour: red\n`, 5, 'POSTERN_ERR_CONFIG_INVALID'],
    ['dangling reference', `${good}    monitors: [nope]\n`, 5, 'POSTERN_ERR_CONFIG_REFERENCE'],
  ] as const;
  for (const [what, text, line, code] of broken) {
    await writeFile(join(dir, 'pools.yaml'), text);
    const status = await statuses.next((s) => !s.ok);
    assert.equal(status.code, code, what);
    assert.equal(status.generation, 1, `${what}: the running generation stays`);
    assert.equal(status.problems[0]?.file, 'pools.yaml', what);
    assert.equal(status.problems[0]?.line, line, what);
    assert.equal(importer.configuration?.pools[0]?.nodes[0]?.address, '10.0.0.1:80');
  }
  assert.equal(applied.items.length, 1, 'nothing broken was applied');
  const metrics = await registry.getSingleMetricAsString('postern_edge_config_import_ok');
  assert.match(metrics, /postern_edge_config_import_ok 0/);
  assert.equal(
    logLines.filter((l) => l.includes('"level":50')).length,
    3,
    'each distinct error logged once',
  );

  await writeFile(join(dir, 'pools.yaml'), pool('web', '10.0.0.9:80'));
  const fixed = await applied.next();
  assert.equal(fixed.info.generation, 2);
  assert.equal(firstAddress(fixed), '10.0.0.9:80');
  assert.equal(importer.status().ok, true);
  assert.deepEqual(importer.status().problems, []);
  assert.match(await registry.getSingleMetricAsString('postern_edge_config_generation'), / 2$/m);
});

test('the same error is logged once however often the files change', async () => {
  const dir = await root();
  await put(dir, 'a.yaml', 'version: 1\nextra: 1\n');
  const { importer, statuses, logLines } = startImporter(dir, {
    rescanIntervalMs: 0,
    watch: false,
  });
  const outcome = await importer.start();
  assert.equal(outcome.ok, false);
  assert.equal(outcome.ok ? undefined : outcome.error.code, 'POSTERN_ERR_CONFIG_INVALID');
  await put(dir, 'b.yaml', 'version: 1\n# another file, the same problem in a.yaml\n');
  await importer.refresh();
  assert.equal(statuses.items.length, 2, 'both changes were imported');
  assert.equal(logLines.filter((l) => l.includes('"level":50')).length, 1);
  // Nothing changed: a refresh does not import again.
  await importer.refresh();
  assert.equal(statuses.items.length, 2);
});

test('a ConfigMap ..data swap is noticed by the directory watch alone', async () => {
  const dir = await root();
  const mount = new ConfigMapMount(dir);
  await mount.update({ 'pools.yaml': pool('web', '10.0.0.1:80') });
  const { importer, applied } = startImporter(dir, { rescanIntervalMs: 0 });
  await importer.start();
  assert.equal(firstAddress(await applied.next()), '10.0.0.1:80');
  const swapped = Date.now();
  await mount.update({ 'pools.yaml': pool('web', '10.0.0.2:80') });
  const next = await applied.next();
  assert.equal(firstAddress(next), '10.0.0.2:80');
  assert.ok(next.at - swapped < 1000, `applied ${next.at - swapped} ms after the swap`);
  await mount.update({
    'pools.yaml': pool('web', '10.0.0.3:80'),
    'more.yaml': pool('api', '10.0.1.1:80'),
  });
  const third = await applied.next();
  assert.deepEqual(third.info.files, ['more.yaml', 'pools.yaml']);
});

test('a ConfigMap ..data swap is noticed by the periodic rescan alone', async () => {
  const dir = await root();
  const mount = new ConfigMapMount(dir);
  await mount.update({ 'pools.yaml': pool('web', '10.0.0.1:80') });
  const { importer, applied } = startImporter(dir, { watch: false, rescanIntervalMs: 100 });
  await importer.start();
  await applied.next();
  await mount.update({ 'pools.yaml': pool('web', '10.0.0.2:80') });
  assert.equal(firstAddress(await applied.next()), '10.0.0.2:80');
  // A scan of the unchanged tree (as the next rescan would make) applies nothing new.
  assert.equal((await importer.refresh()).generation, 2);
  assert.equal(applied.items.length, 2);
});

test('a change to a file read through valueFrom re-runs the import', async () => {
  const dir = await root();
  const [one, two] = await Promise.all([certificatePair('a.test'), certificatePair('b.test')]);
  await put(dir, 'tls/app/tls.crt', one.certPem);
  await put(dir, 'tls/app/tls.key', one.keyPem);
  await put(
    dir,
    'config/certs.yaml',
    `version: 1\ncertificates:\n  - {name: app, cert: ${fileRef('tls/app/tls.crt')}, key: ${fileRef('tls/app/tls.key')}}\n`,
  );
  const { importer, applied, statuses } = startImporter(dir, { rescanIntervalMs: 0 });
  await importer.start();
  const first = await applied.next();
  assert.deepEqual(first.info.referencedFiles, ['tls/app/tls.crt', 'tls/app/tls.key']);
  assert.ok(importer.watchedDirectories().some((d) => d.endsWith(join('tls', 'app'))));

  // Half-rotated: the new certificate with the old key is refused, the old pair keeps running.
  await writeFile(join(dir, 'tls/app/tls.crt'), two.certPem);
  const refused = await statuses.next((s) => !s.ok);
  assert.equal(refused.code, 'POSTERN_ERR_CONFIG_CERTIFICATE');
  assert.equal(refused.problems[0]?.path, 'certificates[0].key');
  assert.equal(refused.problems[0]?.line, 3);

  // The key arrives the way Secrets do, by rename: the pair applies.
  await writeFile(join(dir, 'tls/app/tls.key.new'), two.keyPem);
  await rename(join(dir, 'tls/app/tls.key.new'), join(dir, 'tls/app/tls.key'));
  const rotated = await applied.next();
  assert.equal(rotated.info.generation, 2);
  assert.equal(rotated.config.certificates[0]?.cert, two.certPem);
});

test('a failing onConfiguration keeps the previous generation and is reported', async () => {
  const dir = await root();
  await put(dir, 'pools.yaml', pool('web', '10.0.0.1:80'));
  let refuse = false;
  const { importer, statuses } = startImporter(dir, {
    rescanIntervalMs: 0,
    watch: false,
    onConfiguration: () => {
      if (refuse) throw new Error('port 8080 is taken');
    },
  });
  await importer.start();
  refuse = true;
  await put(dir, 'pools.yaml', pool('web', '10.0.0.2:80'));
  const status = await importer.refresh();
  assert.equal(status.ok, false);
  assert.equal(status.code, 'POSTERN_ERR_CONFIG_APPLY');
  assert.equal(status.generation, 1);
  assert.match(status.problems[0]?.message ?? '', /generation 2 .*port 8080 is taken/);
  refuse = false;
  assert.equal((await importer.refresh({ force: true })).generation, 2);
  assert.equal(statuses.items.length, 3);
});

test('documents may refer to names only onConfiguration knows; its refusal is an invalid import, tried again', async () => {
  const dir = await root();
  await put(dir, 'pools.yaml', pool('shared', '10.0.0.1:80'));
  await put(
    dir,
    'vs.yaml',
    'version: 1\nvirtual_servers:\n  - {name: doc, listen: "127.0.0.1:8081", pool: outside}\n',
  );
  // Stands for objects created through the API: a pool the documents use, a server using theirs.
  const outside = [{ name: 'outside', nodes: [{ address: '10.0.0.2:80' }] }];
  let servers = [{ name: 'apiv', listen: '127.0.0.1:8080', pool: 'shared', enabled: true }];
  const { importer } = startImporter(dir, {
    rescanIntervalMs: 0,
    watch: false,
    onConfiguration: (config) => {
      validateConfiguration({
        ...config,
        pools: [...config.pools, ...outside],
        virtual_servers: [...config.virtual_servers, ...servers],
      } as unknown as Configuration);
    },
  });
  assert.deepEqual(await importer.start(), { ok: true, generation: 1 });

  await put(dir, 'pools.yaml', 'version: 1\n');
  const refused = await importer.refresh();
  assert.equal(refused.ok, false);
  assert.equal(refused.code, 'POSTERN_ERR_CONFIG_REFERENCE');
  assert.equal(refused.generation, 1);
  assert.match(refused.problems[0]?.message ?? '', /pool "shared" does not exist/);
  assert.doesNotMatch(refused.problems[0]?.message ?? '', /could not be applied/);

  // What refused the documents changed, not the documents: the next import tries again.
  servers = [];
  const applied = await importer.refresh();
  assert.equal(applied.ok, true, JSON.stringify(applied.problems));
  assert.equal(applied.generation, 2);
});

test('a missing directory is reported and picked up when it appears; stop() ends watching', async () => {
  const parent = await root();
  const dir = join(parent, 'config');
  const { importer, applied } = startImporter(dir, { rescanIntervalMs: 50 });
  const outcome = await importer.start();
  assert.equal(outcome.ok ? 'ok' : outcome.error.code, 'POSTERN_ERR_CONFIG_DIR');
  await put(dir, 'pools.yaml', pool('web', '10.0.0.1:80'));
  assert.equal((await applied.next()).info.generation, 1);
  await importer.stop();
  assert.deepEqual(importer.watchedDirectories(), []);
  await writeFile(join(dir, 'pools.yaml'), pool('web', '10.0.0.2:80'));
  assert.equal((await importer.refresh()).generation, 1, 'a stopped importer imports nothing');
});

test('a document object overriding another of the same name is logged once, naming both files', async () => {
  const dir = await root();
  await put(dir, '00-base.yaml', pool('web', '10.0.0.1:80'));
  await put(dir, '10-site.yaml', pool('web', '10.0.0.2:80'));
  const { importer, logLines } = startImporter(dir, { rescanIntervalMs: 0, watch: false });
  assert.deepEqual(await importer.start(), { ok: true, generation: 1 });
  const overrides = () =>
    logLines
      .map((l) => JSON.parse(l) as { level: number; msg: string; overridden?: string })
      .filter((l) => l.overridden !== undefined);
  assert.deepEqual(
    overrides().map((l) => [l.level, l.msg]),
    [[30, 'pools "web" of 10-site.yaml overrides the one of the same name in 00-base.yaml']],
  );
  // Another change that keeps the override does not log it again.
  await put(dir, '20-other.yaml', pool('api', '10.0.0.3:80'));
  await importer.refresh();
  assert.equal(importer.status().generation, 2);
  assert.equal(overrides().length, 1);
});
