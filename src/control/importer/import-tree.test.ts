import assert from 'node:assert/strict';
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ConfigProblem, ConfigProblemsError } from '../../config/index.js';
import { FILE_REF_CODE, sourceOf } from '../../config/index.js';
import { isPosternError } from '../../core/index.js';
import { importConfigTree } from './import-tree.js';
import { certificatePair, ConfigMapMount, fileRef, put, tempDir } from './test-kit.js';

type Pair = Awaited<ReturnType<typeof certificatePair>>;
let app: Pair;
let other: Pair;
const dirs: { remove(): Promise<void> }[] = [];

before(async () => {
  [app, other] = await Promise.all([certificatePair('app.example.com'), certificatePair('x.test')]);
});
after(async () => {
  await Promise.all(dirs.map((d) => d.remove()));
});

async function tree(files: Record<string, string>): Promise<string> {
  const dir = await tempDir();
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) await put(dir.path, name, text);
  return dir.path;
}

/** The problems of an import that must fail with `code`. */
async function problemsOf(root: string, code: string): Promise<readonly ConfigProblem[]> {
  try {
    await importConfigTree(root);
  } catch (err) {
    assert.ok(isPosternError(err, code), String(err));
    return (err as ConfigProblemsError).problems;
  }
  assert.fail('the import succeeded');
}

const pool = (name: string, address: string) =>
  `version: 1\npools:\n  - name: ${name}\n    nodes: [{address: "${address}"}]\n`;

test('every document of the tree is read in lexical order of its path; dot-entries are skipped', async () => {
  const root = await tree({
    '00-base.yaml': pool('web', '10.0.0.1:80'),
    'sites/a/10-web.yml': pool('web', '10.0.0.2:80'),
    'sites/b.json': JSON.stringify({
      version: 1,
      pools: [{ name: 'api', nodes: [{ address: '10.0.0.3:80' }] }],
    }),
    '.hidden/99.yaml': 'this is not even YAML: [',
    '.editor-swap.yaml': 'nor this: [',
    'README.md': '# not a document',
  });
  const result = await importConfigTree(root);
  assert.deepEqual(result.files, ['00-base.yaml', 'sites/a/10-web.yml', 'sites/b.json']);
  assert.deepEqual(
    result.config.pools.map((p) => [p.name, p.nodes[0]?.address]),
    [
      ['web', '10.0.0.2:80'],
      ['api', '10.0.0.3:80'],
    ],
  );
  assert.equal(sourceOf(result.config.pools[0]!)?.file, 'sites/a/10-web.yml');
});

test('a ConfigMap mount is read through its visible links into ..data', async () => {
  const dir = await tempDir();
  dirs.push(dir);
  const mount = new ConfigMapMount(dir.path);
  await mount.update({ 'pools.yaml': pool('web', '10.0.0.1:80') });
  const result = await importConfigTree(dir.path);
  assert.deepEqual(result.files, ['pools.yaml']);
  assert.equal(result.config.pools[0]?.name, 'web');
});

test('valueFrom reads files relative to the root, also through ConfigMap links', async () => {
  const root = await tree({
    'tls/app/tls.crt': app.certPem,
    'tls/app/tls.key': app.keyPem,
    'data/host': 'health.internal',
    'config/10-app.yaml': [
      'version: 1',
      'certificates:',
      `  - {name: app, cert: ${fileRef('tls/app/tls.crt')}, key: ${fileRef('tls/app/tls.key')}}`,
      'monitors:',
      `  - {name: m, type: http, host_header: ${fileRef('data/host')}}`,
    ].join('\n'),
  });
  const result = await importConfigTree(root);
  assert.equal(result.config.certificates[0]?.cert, app.certPem);
  assert.equal(result.config.certificates[0]?.key, app.keyPem);
  assert.equal(result.config.monitors[0]?.host_header, 'health.internal');
  assert.deepEqual(result.referencedFiles, ['data/host', 'tls/app/tls.crt', 'tls/app/tls.key']);
});

test('references that climb out, are absolute or are links leading outside the root are refused', async () => {
  const outside = await tree({ 'secret.key': app.keyPem, 'secret.crt': app.certPem });
  const root = await tree({
    'doc.yaml': [
      'version: 1', //                                                          1
      'certificates:', //                                                       2
      `  - name: a`, //                                                         3
      `    cert: ${fileRef(join(outside, 'secret.crt'))}`, //                   4
      `    key: ${fileRef('../secret.key')}`, //                                5
      `  - name: b`, //                                                         6
      `    cert: ${fileRef('escape/secret.crt')}`, //                           7
      `    key: ${fileRef('missing.key')}`, //                                  8
    ].join('\n'),
  });
  await symlink(outside, join(root, 'escape'));
  const problems = await problemsOf(root, 'POSTERN_ERR_CONFIG_INVALID');
  assert.deepEqual(
    problems.map((p) => [p.file, p.line, p.path, p.code]),
    [
      ['doc.yaml', 4, 'certificates[0].cert.valueFrom.fileRef.name', FILE_REF_CODE],
      ['doc.yaml', 5, 'certificates[0].key.valueFrom.fileRef.name', FILE_REF_CODE],
      ['doc.yaml', 7, 'certificates[1].cert.valueFrom.fileRef.name', FILE_REF_CODE],
      ['doc.yaml', 8, 'certificates[1].key.valueFrom.fileRef.name', FILE_REF_CODE],
      // The walk reports the escaping directory link too, although it holds no documents.
      ['escape', undefined, '', undefined],
    ],
  );
  assert.match(problems[0]!.message, /is absolute/);
  assert.match(problems[1]!.message, /climbs out/);
  assert.match(problems[2]!.message, /symbolic link to .*outside the configuration directory/);
  assert.match(problems[3]!.message, /"missing\.key" cannot be used: no such file/);
});

test('a document that is a link leading outside the root is reported, not read', async () => {
  const outside = await tree({ 'pools.yaml': pool('web', '10.0.0.1:80') });
  const root = await tree({ 'ok.yaml': pool('api', '10.0.0.2:80') });
  await symlink(join(outside, 'pools.yaml'), join(root, 'linked.yaml'));
  const problems = await problemsOf(root, 'POSTERN_ERR_CONFIG_INVALID');
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.file, 'linked.yaml');
  assert.match(problems[0]!.message, /outside the configuration directory/);
  // The problem is the file as a whole: no made-up line 0, column 0.
  assert.equal('line' in problems[0]!, false);
  assert.equal('column' in problems[0]!, false);
});

test('every YAML document of a multi-document file is read in order, like separate files', async () => {
  const root = await tree({
    '00-base.yaml': pool('web', '10.0.0.1:80'),
    '10-many.yaml': [
      '---',
      pool('web', '10.0.0.2:80'),
      '---',
      '# an empty document is skipped',
      '---',
      pool('api', '10.0.0.3:80'),
      '---',
      pool('api', '10.0.0.4:80'),
    ].join('\n'),
  });
  const result = await importConfigTree(root);
  assert.deepEqual(
    result.config.pools.map((p) => [p.name, p.nodes[0]?.address]),
    [
      ['web', '10.0.0.2:80'],
      ['api', '10.0.0.4:80'],
    ],
  );
  assert.deepEqual(result.files, ['00-base.yaml', '10-many.yaml']);
  assert.deepEqual(result.overrides, [
    { collection: 'pools', name: 'web', file: '10-many.yaml', overridden: '00-base.yaml' },
    { collection: 'pools', name: 'api', file: '10-many.yaml', overridden: '10-many.yaml' },
  ]);
  // Problems of a later document carry the line numbers of the whole file.
  await put(root, '10-many.yaml', `${pool('a', '10.0.0.5:80')}---\nversion: 1\npools: 3\n`);
  const problems = await problemsOf(root, 'POSTERN_ERR_CONFIG_INVALID');
  assert.deepEqual(
    problems.map((p) => [p.file, p.line, p.path]),
    [['10-many.yaml', 7, 'pools']],
  );
});

test('a .json document must be strict JSON: a trailing comma is reported at its line and column', async () => {
  const text = '{\n  "version": 1,\n  "pools": [],\n}\n';
  const root = await tree({ 'bad.json': text, 'same.yaml': text });
  const problems = await problemsOf(root, 'POSTERN_ERR_CONFIG_INVALID');
  assert.equal(problems.length, 1, 'the same text as YAML is accepted');
  assert.deepEqual(
    [problems[0]!.file, problems[0]!.line, problems[0]!.column],
    ['bad.json', 3, 14],
  );
  assert.match(problems[0]!.message, /not valid JSON: a trailing comma before '}'/);
});

test('a .json or .yaml file read through valueFrom is data, not a document', async () => {
  const root = await tree({
    'data/rule-body.json': '{"not": "a document"}',
    'rules.yaml': [
      'version: 1',
      'rules:',
      '  - name: r',
      `    request: [{deny: {status: 403, body: ${fileRef('data/rule-body.json')}}}]`,
    ].join('\n'),
  });
  const result = await importConfigTree(root);
  assert.deepEqual(result.files, ['rules.yaml']);
  assert.deepEqual(result.config.rules[0]?.request, [
    { deny: { status: 403, body: '{"not": "a document"}' } },
  ]);
});

test('syntax errors and unknown keys in several files are reported together', async () => {
  const root = await tree({
    'a.yaml': 'version: 1\npools:\n  - name: [\n',
    'b.json': '{\n  "version": 1,\n  "pools": [{"name": "p", "nodes": [], "colour": "red"}]\n}',
  });
  const problems = await problemsOf(root, 'POSTERN_ERR_CONFIG_INVALID');
  assert.deepEqual(
    problems.map((p) => `${p.file}:${p.line} ${p.path}`),
    ['a.yaml:4 ', 'b.json:3 pools[0].nodes', 'b.json:3 pools[0].colour'],
  );
});

test('dangling references across files are reported with the file and line that make them', async () => {
  const root = await tree({
    '00-pools.yaml': pool('web', '10.0.0.1:80'),
    '10-vs.yaml': [
      'version: 1',
      'virtual_servers:',
      '  - name: site',
      '    listen: 0.0.0.0:8080',
      '    pool: wbe',
    ].join('\n'),
  });
  const problems = await problemsOf(root, 'POSTERN_ERR_CONFIG_REFERENCE');
  assert.deepEqual(
    problems.map((p) => `${p.file}:${p.line} ${p.path}`),
    ['10-vs.yaml:5 virtual_servers[0].pool'],
  );
});

test('schema problems and dangling references in different files are reported in one round', async () => {
  const root = await tree({
    'tls/app.crt': app.certPem,
    'tls/other.key': other.keyPem,
    '00-pools.yaml': [
      'version: 1', //                                               1
      'pools:', //                                                   2
      '  - {name: web, nodes: [{address: "10.0.0.1:80"}]}', //       3
      '  - {name: api, nodes: [{address: "10.0.0.2:80"}], algo: x}', // 4
    ].join('\n'),
    '10-vs.yaml': [
      'version: 1', //                                               1
      'virtual_servers:', //                                         2
      '  - name: site', //                                           3
      '    listen: 0.0.0.0:8080', //                                 4
      '    pool: wbe', //                                            5
      'certificates:', //                                            6
      `  - {name: bad, cert: ${fileRef('tls/app.crt')}, key: ${fileRef('tls/other.key')}}`, // 7
    ].join('\n'),
  });
  const problems = await problemsOf(root, 'POSTERN_ERR_CONFIG_INVALID');
  assert.deepEqual(
    problems.map((p) => `${p.file}:${p.line} ${p.path} ${p.code ?? '-'}`),
    [
      '00-pools.yaml:4 pools[1].algo -',
      '10-vs.yaml:5 virtual_servers[0].pool POSTERN_ERR_CONFIG_REFERENCE',
      '10-vs.yaml:7 certificates[0].key POSTERN_ERR_CONFIG_CERTIFICATE',
    ],
  );
  assert.match(problems[1]!.message, /pool "wbe" does not exist/);
});

test('a name declared by an object with schema problems is not reported as missing', async () => {
  const root = await tree({
    '00-pools.yaml': [
      'version: 1',
      'pools:',
      '  - {name: web, nodes: [{address: "10.0.0.1:80", wieght: 2}]}',
      'monitors:',
      '  - {name: hc, type: tcp, delay_ms: -5}',
    ].join('\n'),
    '10-vs.yaml': [
      'version: 1',
      'pools:',
      '  - {name: api, monitors: [hc], nodes: [{address: "10.0.0.2:80"}]}',
      'virtual_servers:',
      '  - {name: site, listen: "0.0.0.0:8080", pool: web}',
      '  - {name: other, protocol: http, listen: "0.0.0.0:8081", pool: api, routes: [{host: a.test, pool: nope}]}',
    ].join('\n'),
  });
  const problems = await problemsOf(root, 'POSTERN_ERR_CONFIG_INVALID');
  assert.deepEqual(
    problems.map((p) => `${p.file}:${p.line} ${p.path}`),
    [
      '00-pools.yaml:3 pools[0].nodes[0].wieght',
      '00-pools.yaml:5 monitors[0].delay_ms',
      '10-vs.yaml:6 virtual_servers[1].routes[0].pool',
    ],
  );
  assert.match(problems[2]!.message, /pool "nope" does not exist/);
});

test('an object whose final definition has problems is left out of the cross-checks', async () => {
  const root = await tree({
    '00-base.yaml': [
      'version: 1',
      'pools:',
      '  - {name: web, nodes: [{address: "10.0.0.1:80"}]}',
      'virtual_servers:',
      '  - {name: a, listen: "0.0.0.0:8080", pool: web}',
    ].join('\n'),
    // Overrides "a" with a new address, but with a typo: the earlier "a" on 8080 is not what
    // will run, so "b" on 8080 must not be reported as clashing with it.
    '10-site.yaml': [
      'version: 1',
      'virtual_servers:',
      '  - {name: a, listen: "0.0.0.0:9090", pool: web, protcol: http}',
      '  - {name: b, listen: "0.0.0.0:8080", pool: web}',
    ].join('\n'),
  });
  const problems = await problemsOf(root, 'POSTERN_ERR_CONFIG_INVALID');
  assert.deepEqual(
    problems.map((p) => `${p.file}:${p.line} ${p.path}: ${p.message}`),
    [
      '10-site.yaml:3 virtual_servers[0].protcol: unknown field "protcol"; did you mean "protocol"?',
    ],
  );
});

test('references are not checked while a document has a syntax error: it may declare any name', async () => {
  const root = await tree({
    '00-pools.yaml': 'version: 1\npools:\n  - name: [\n',
    '10-vs.yaml': [
      'version: 1',
      'virtual_servers:',
      '  - {name: site, listen: "0.0.0.0:8080", pool: web}',
    ].join('\n'),
  });
  const problems = await problemsOf(root, 'POSTERN_ERR_CONFIG_INVALID');
  assert.deepEqual(
    problems.map((p) => p.file),
    ['00-pools.yaml'],
  );
});

test('a key that does not belong to its certificate is refused; a matching pair with its chain is not', async () => {
  const root = await tree({
    'tls/app.crt': app.certPem + app.caPem,
    'tls/app.key': app.keyPem,
    'tls/other.key': other.keyPem,
    'certs.yaml': [
      'version: 1',
      'certificates:',
      `  - {name: good, cert: ${fileRef('tls/app.crt')}, key: ${fileRef('tls/app.key')}}`,
      '  - name: bad',
      `    cert: ${fileRef('tls/app.crt')}`,
      `    key: ${fileRef('tls/other.key')}`,
    ].join('\n'),
  });
  const problems = await problemsOf(root, 'POSTERN_ERR_CONFIG_CERTIFICATE');
  assert.deepEqual(
    problems.map((p) => `${p.file}:${p.line} ${p.path}`),
    ['certs.yaml:6 certificates[1].key'],
  );
  assert.match(
    problems[0]!.message,
    /does not belong to the certificate "bad".*read from "tls\/other\.key"/,
  );
});

test('a missing configuration directory fails with POSTERN_ERR_CONFIG_DIR', async () => {
  const root = await tree({});
  await assert.rejects(importConfigTree(join(root, 'nope')), (err: unknown) =>
    isPosternError(err, 'POSTERN_ERR_CONFIG_DIR'),
  );
  const empty = await importConfigTree(root);
  assert.deepEqual(empty.files, []);
  assert.deepEqual(empty.config.pools, []);
});
