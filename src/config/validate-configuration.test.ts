import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPosternError } from '../core/index.js';
import { deepFreeze } from './deep-freeze.js';
import type { Configuration } from './document.js';
import { documentSchema } from './document.js';
import type { ConfigProblemsError } from './errors.js';
import { mergeDocuments } from './merge-documents.js';
import { sourceOf } from './object-source.js';
import { parseDocument } from './parse-document.js';
import type { ConfigProblem } from './problems.js';
import { UNKNOWN_SOURCE, validateConfiguration } from './validate-configuration.js';

const base = parseDocument(
  [
    'version: 1',
    'connector_groups:',
    '  - name: dc-east',
    'pools:',
    '  - name: web',
    '    via: dc-east',
    '    nodes: [{address: "10.0.0.1:80"}]',
    '  - name: db',
    '    nodes: [{address: "10.0.0.2:5432"}]',
    'virtual_servers:',
    '  - {name: web, listen: "0.0.0.0:8080", pool: web}',
  ].join('\n'),
  { fileName: '00-base.yaml' },
);

function referenceProblems(cfg: Configuration): readonly ConfigProblem[] {
  try {
    validateConfiguration(cfg);
  } catch (err) {
    assert.ok(isPosternError(err, 'POSTERN_ERR_CONFIG_REFERENCE'), String(err));
    return (err as ConfigProblemsError).problems;
  }
  assert.fail('validateConfiguration accepted a broken configuration');
}

test('a sound configuration validates and is returned unchanged', () => {
  const cfg = mergeDocuments([base]);
  assert.equal(validateConfiguration(cfg), cfg);
});

test('merging keeps every object and lets a later document override the same name', () => {
  const site = parseDocument(
    [
      'version: 1',
      'pools:',
      '  - name: web',
      '    algorithm: random',
      '    nodes: [{address: "10.0.0.9:80"}]',
      'virtual_servers:',
      '  - {name: db, listen: "0.0.0.0:5432", pool: db}',
    ].join('\n'),
    { fileName: '10-site.yaml' },
  );
  const cfg = mergeDocuments([base, site]);
  assert.deepEqual(
    cfg.pools.map((p) => [p.name, p.algorithm, p.nodes[0]?.address]),
    [
      ['web', 'random', '10.0.0.9:80'],
      ['db', 'round_robin', '10.0.0.2:5432'],
    ],
    'the override takes the position where the name first appeared',
  );
  assert.deepEqual(
    cfg.virtual_servers.map((v) => v.name),
    ['web', 'db'],
  );
  assert.equal(cfg.connector_groups.length, 1);
  assert.equal(sourceOf(cfg.pools[0]!)?.file, '10-site.yaml');
  assert.equal(sourceOf(cfg.pools[1]!)?.file, '00-base.yaml');
  assert.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.pools));
  // The overriding pool no longer uses the group, but it still exists, so all is sound.
  validateConfiguration(cfg);
});

test('missing pools and connector groups are reported in the file and line that name them', () => {
  const broken = parseDocument(
    [
      'version: 1', //                                                  1
      'pools:', //                                                      2
      '  - name: api', //                                               3
      '    via: dc-west', //                                            4
      '    nodes: [{address: "10.0.1.1:80"}]', //                       5
      'virtual_servers:', //                                            6
      '  - name: api', //                                               7
      '    listen: 0.0.0.0:9000', //                                    8
      '    pool: apii', //                                              9
    ].join('\n'),
    { fileName: '20-api.yaml' },
  );
  const problems = referenceProblems(mergeDocuments([base, broken]));
  assert.deepEqual(
    problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.path}`),
    ['20-api.yaml:4:10 pools[0].via', '20-api.yaml:9:11 virtual_servers[0].pool'],
  );
  assert.match(problems[0]!.message, /connector group "dc-west" does not exist.*groups create/);
  assert.match(problems[1]!.message, /pool "apii" does not exist/);
});

test('enabled virtual servers may not share a listen address, wildcards included', () => {
  const doc = parseDocument(
    [
      'version: 1',
      'virtual_servers:',
      '  - {name: a, listen: "10.0.0.1:443", pool: web}', //         3
      '  - {name: b, listen: "0.0.0.0:443", pool: web}', //          4  clashes with a
      '  - {name: c, listen: "[::1]:443", pool: web}', //            5  fine: IPv6 vs IPv4 wildcard
      '  - {name: d, listen: "[::]:8443", pool: web}', //            6
      '  - {name: e, listen: "127.0.0.1:8443", pool: web}', //       7  clashes with d (dual stack)
      '  - {name: f, listen: "10.0.0.1:443", pool: web, enabled: false}', // disabled: ignored
      '  - {name: g, listen: "10.0.0.1:444", pool: web}', //         9  other port
    ].join('\n'),
    { fileName: 'vs.yaml' },
  );
  const problems = referenceProblems(mergeDocuments([base, doc]));
  assert.deepEqual(
    problems.map((p) => `${p.line} ${p.path}`),
    ['4 virtual_servers[1].listen', '7 virtual_servers[4].listen'],
  );
  assert.match(problems[0]!.message, /clashes with virtual server "a" \(10\.0\.0\.1:443\)/);
  assert.match(problems[1]!.message, /clashes with virtual server "d" \(\[::\]:8443\)/);
});

test('objects that did not come from a document are reported by their merged path', () => {
  // Parsed by the schema alone (as the admin API does), so the objects have no source file.
  const cfg = deepFreeze(
    documentSchema.parse({
      version: 1,
      virtual_servers: [{ name: 'x', listen: '127.0.0.1:1', pool: 'none' }],
    }),
  );
  assert.deepEqual(
    referenceProblems(cfg).map((p) => [p.file, p.line, p.column, p.path]),
    [[UNKNOWN_SOURCE, 0, 0, 'virtual_servers[0].pool']],
  );
});

test('routes, rules, certificates and monitors that do not exist are all reported at once', () => {
  const defs = parseDocument(
    [
      'version: 1',
      'monitors: [{name: health}]',
      'rules: [{name: hsts}]',
      'certificates:',
      '  - name: app',
      '    cert: "-----BEGIN CERTIFICATE-----\\nA\\n-----END CERTIFICATE-----"',
      '    key: "-----BEGIN PRIVATE KEY-----\\nA\\n-----END PRIVATE KEY-----"',
    ].join('\n'),
    { fileName: '00-defs.yaml' },
  );
  const site = parseDocument(
    [
      'version: 1', //                                                              1
      'pools:', //                                                                  2
      '  - {name: api, nodes: [{address: "10.0.2.1:80"}], monitors: [health, helth]}', // 3
      'virtual_servers:', //                                                        4
      '  - name: site', //                                                          5
      '    protocol: https', //                                                     6
      '    listen: 0.0.0.0:443', //                                                 7
      '    pool: web', //                                                           8
      '    routes: [{host: api.example.com, pool: api}, {path_prefix: /x, pool: nope}]', // 9
      '    rules: [hsts, cors]', //                                                 10
      '    tls: {certificates: [app, other]}', //                                   11
    ].join('\n'),
    { fileName: '10-site.yaml' },
  );
  const problems = referenceProblems(mergeDocuments([base, defs, site]));
  assert.deepEqual(
    problems.map((p) => `${p.file}:${p.line} ${p.path}: ${p.message}`),
    [
      '10-site.yaml:3 pools[0].monitors[1]: monitor "helth" does not exist; define it under monitors or correct the name',
      '10-site.yaml:9 virtual_servers[0].routes[1].pool: pool "nope" does not exist; define it under pools or correct the name',
      '10-site.yaml:10 virtual_servers[0].rules[1]: rule "cors" does not exist; define it under rules or correct the name',
      '10-site.yaml:11 virtual_servers[0].tls.certificates[1]: certificate "other" does not exist; define it under certificates or correct the name',
    ],
  );
});

test('a configuration assembled without the newer collections still validates', () => {
  // The edge runtime builds configurations from stored objects that predate monitors & co.
  const cfg = {
    version: 1,
    connector_groups: [],
    pools: [{ name: 'p', algorithm: 'round_robin', nodes: [{ address: 'a.b:1' }] }],
    virtual_servers: [{ name: 'v', listen: '127.0.0.1:1', pool: 'p', enabled: true }],
  } as unknown as Configuration;
  assert.equal(validateConfiguration(cfg), cfg);
});
