import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPosternError } from '../core/index.js';
import type { ConfigProblemsError } from './errors.js';
import { inspectDocuments, parseDocument } from './parse-document.js';
import type { ConfigProblem } from './problems.js';

const exampleYaml = `# a site document
version: 1
connector_groups:
  - name: dc-east
    description: East data centre
pools:
  - name: web
    via: dc-east
    nodes:
      - address: 10.0.0.1:8080
      - address: app.internal:8080
        weight: 3
        state: draining
virtual_servers:
  - name: web
    listen: 0.0.0.0:8443
    pool: web
`;

/** Runs `fn`, asserts it throws a POSTERN_ERR_CONFIG_INVALID, and returns the problems. */
function problemsOf(text: string, fileName = 'site.yaml'): readonly ConfigProblem[] {
  try {
    parseDocument(text, { fileName });
  } catch (err) {
    assert.ok(isPosternError(err, 'POSTERN_ERR_CONFIG_INVALID'), String(err));
    return (err as ConfigProblemsError).problems;
  }
  assert.fail('parseDocument accepted an invalid document');
}

/** Problems reduced to `line:column path` plus the message, for exact comparison. */
function brief(problems: readonly ConfigProblem[]): string[] {
  return problems.map((p) => `${p.line}:${p.column} ${p.path} — ${p.message}`);
}

test('a valid YAML document parses with every default applied', () => {
  const doc = parseDocument(exampleYaml, { fileName: 'site.yaml' });
  assert.deepEqual(doc, {
    version: 1,
    connector_groups: [{ name: 'dc-east', description: 'East data centre' }],
    monitors: [],
    certificates: [],
    rules: [],
    pools: [
      {
        name: 'web',
        via: 'dc-east',
        algorithm: 'round_robin',
        priority_enabled: false,
        priority_nodes: 1,
        nodes: [
          { address: '10.0.0.1:8080', weight: 1, state: 'active', priority: 1 },
          { address: 'app.internal:8080', weight: 3, state: 'draining', priority: 1 },
        ],
        monitors: [],
        passive_health: { enabled: true, failures: 5, on_5xx: false, eject_ms: 30000 },
        panic: 'all',
        slow_start_ms: 0,
        node_max_connections: 0,
        queue_timeout_ms: 0,
        queue_max: 1024,
        abort_on_close: false,
      },
    ],
    virtual_servers: [
      {
        name: 'web',
        protocol: 'tcp',
        listen: '0.0.0.0:8443',
        pool: 'web',
        enabled: true,
        routes: [],
        rules: [],
        limits: { max_header_bytes: 16384, max_headers: 100 },
        connect_timeout_ms: 10000,
        idle_timeout_ms: 300000,
        keepalive_timeout_ms: 10000,
        request_timeout_ms: 60000,
        forwarded_headers: true,
        x_forwarded_for: 'replace',
        error_detail: 'minimal',
        max_connections: 0,
        proxy_protocol: 'none',
        retries: 1,
      },
    ],
    applications: [],
    access_policies: [],
    identity_providers: [],
    log_receivers: [],
  });
});

test('the same document written as JSON parses to the same result', () => {
  const fromYaml = parseDocument(exampleYaml, { fileName: 'site.yaml' });
  const json = JSON.stringify({
    version: 1,
    connector_groups: [{ name: 'dc-east', description: 'East data centre' }],
    pools: [
      {
        name: 'web',
        via: 'dc-east',
        nodes: [
          { address: '10.0.0.1:8080' },
          { address: 'app.internal:8080', weight: 3, state: 'draining' },
        ],
      },
    ],
    virtual_servers: [{ name: 'web', listen: '0.0.0.0:8443', pool: 'web' }],
  });
  assert.deepEqual(parseDocument(json, { fileName: 'site.json' }), fromYaml);
});

test('a parsed document re-parses to itself (round trip)', () => {
  const once = parseDocument(exampleYaml, { fileName: 'site.yaml' });
  assert.deepEqual(parseDocument(JSON.stringify(once), { fileName: 'again.json' }), once);
});

test('the result is frozen all the way down', () => {
  const doc = parseDocument(exampleYaml, { fileName: 'site.yaml' });
  const mutable = doc as unknown as {
    version: number;
    pools: { name: string; nodes: { weight: number }[] }[];
  };
  // Test modules are ES modules, hence strict mode: writes to frozen objects throw.
  assert.throws(() => (mutable.version = 2), TypeError);
  assert.throws(() => mutable.pools.push(mutable.pools[0]!), TypeError);
  assert.throws(() => (mutable.pools[0]!.name = 'other'), TypeError);
  assert.throws(() => (mutable.pools[0]!.nodes[0]!.weight = 9), TypeError);
});

test('every problem of a document is reported at once, with line, column and path', () => {
  const text = [
    'version: 1', //                                       1
    'pools:', //                                           2
    '  - name: web', //                                    3
    '    algorithm: fastest', //                           4
    '    nodes:', //                                       5
    '      - address: 10.0.0.1:80', //                     6
    '      - address: 10.0.0.1:80', //                     7
    '        wieght: 3', //                                8
    '      - address: ::1:80', //                          9
    '        weight: 1.5', //                              10
    '  - name: web', //                                    11
    '    nodes: []', //                                    12
    'virtual_servers:', //                                 13
    '  - name: Web', //                                    14
    '    listen: 0.0.0.0:99999', //                        15
    '    idle_timeout_ms: -1', //                          16
    'extra: true', //                                      17
  ].join('\n');
  const problems = problemsOf(text);
  assert.ok(problems.every((p) => p.file === 'site.yaml'));
  assert.deepEqual(brief(problems), [
    '4:16 pools[0].algorithm — must be one of "round_robin", "weighted_round_robin", ' +
      '"least_connections", "weighted_least_connections", "random", "fastest_response_time"',
    '7:18 pools[0].nodes[1].address — duplicate address "10.0.0.1:80" in this pool ' +
      '(first at pools[0].nodes[0]); each address may appear once',
    '8:9 pools[0].nodes[1].wieght — unknown field "wieght"; did you mean "weight"?',
    '9:18 pools[0].nodes[2].address — an IPv6 address needs brackets, as in [::1]:443',
    '10:17 pools[0].nodes[2].weight — must be a whole number, not the fraction 1.5',
    '11:11 pools[1].name — duplicate name "web" in pools (first at pools[0]); each name may appear once',
    '12:12 pools[1].nodes — a pool needs at least one node, or discovery to find them',
    '14:5 virtual_servers[0].pool — is required',
    '14:11 virtual_servers[0].name — must be 1..63 lower-case letters, digits or inner ' +
      'hyphens (a DNS label), e.g. "web-pool"',
    '15:13 virtual_servers[0].listen — the port 99999 is outside 1..65535',
    '16:22 virtual_servers[0].idle_timeout_ms — must be at least 0',
    '17:1 extra — unknown field "extra"; remove it or correct its spelling',
  ]);
});

test('the error message lists every problem on its own line as file:line:column', () => {
  try {
    parseDocument('version: 1\npools:\n  - name: a\n    nodes: []\n    x: 1\n', {
      fileName: 'dir/a.yaml',
    });
    assert.fail('expected an error');
  } catch (err) {
    const lines = (err as Error).message.split('\n');
    assert.match(lines[0]!, /invalid \(2 problems\).*nothing was changed/);
    assert.deepEqual(lines.slice(1), [
      '  dir/a.yaml:4:12 pools[0].nodes: a pool needs at least one node, or discovery to find them',
      '  dir/a.yaml:5:5 pools[0].x: unknown field "x"; remove it or correct its spelling',
    ]);
  }
});

test('unknown keys are rejected at every level', () => {
  const text = [
    'version: 1',
    'colour: red',
    'connector_groups:',
    '  - name: g',
    '    region: eu',
    'pools:',
    '  - name: p',
    '    nodes:',
    '      - address: a.internal:1',
    '        source_ip: 10.0.0.9',
    'virtual_servers:',
    '  - {name: v, listen: "127.0.0.1:1", pool: p, sni: true}',
  ].join('\n');
  assert.deepEqual(
    problemsOf(text).map((p) => `${p.line}:${p.column} ${p.path}`),
    [
      '2:1 colour',
      '5:5 connector_groups[0].region',
      '10:9 pools[0].nodes[0].source_ip',
      '12:47 virtual_servers[0].sni',
    ],
  );
});

test('JSON documents report problems with their line numbers too', () => {
  const poolLine = '    {"name": "p", "nodes": [{"address": "x"}]}';
  const text = `{\n  "version": 1,\n  "pools": [\n${poolLine}\n  ]\n}`;
  const column = poolLine.indexOf('"x"') + 1;
  assert.deepEqual(brief(problemsOf(text, 'site.json')), [
    `4:${column} pools[0].nodes[0].address — the port is missing`,
  ]);
});

test('syntax errors are reported with their position and stop validation', () => {
  const problems = problemsOf('version: 1\npools:\n  - name: [a\n', 'bad.yaml');
  assert.ok(problems.length >= 1);
  assert.ok(
    problems.every((p) => (p.line ?? 0) >= 3 && p.path === ''),
    JSON.stringify(problems),
  );
  assert.deepEqual(brief(problemsOf('version: 1\nversion: 1\n')), [
    '2:1  — Map keys must be unique',
  ]);
});

test('documents of another version, empty documents and lists are rejected', () => {
  assert.deepEqual(brief(problemsOf('version: 2\n')), [
    '1:10 version — must be 1: this Postern reads version 1 documents',
  ]);
  assert.deepEqual(brief(problemsOf('pools: []\n')), [
    '1:1 version — is required: start the document with "version: 1"',
  ]);
  assert.deepEqual(brief(problemsOf('')), ['1:1  — must be a mapping, not null']);
  assert.deepEqual(brief(problemsOf('- 1\n')), ['1:1  — must be a mapping, not a list']);
});

test('wrong types are named in the message', () => {
  const text =
    'version: 1\nvirtual_servers:\n  - name: v\n    listen: 1.2.3.4:5\n    pool: p\n    enabled: "yes"\n';
  assert.deepEqual(brief(problemsOf(text)), [
    '6:14 virtual_servers[0].enabled — must be a boolean, not the text "yes"',
  ]);
});

test('a .json document is parsed strictly as JSON; the same text as YAML is not', () => {
  const text = '{"version": 1,\n "pools": [],}';
  assert.deepEqual(brief(problemsOf(text, 'site.json')), [
    "2:13  — not valid JSON: a trailing comma before '}'",
  ]);
  assert.deepEqual(parseDocument(text, { fileName: 'site.yaml' }).pools, []);
  assert.deepEqual(brief(problemsOf('{"version": 1, "pools": [x]}', 'a.JSON')), [
    '1:26  — not valid JSON: expected a value',
  ]);
  // A byte order mark is allowed and does not shift the position.
  assert.deepEqual(brief(problemsOf('\uFEFF{"version": 1,}', 'bom.json')), [
    "1:14  — not valid JSON: a trailing comma before '}'",
  ]);
  assert.equal(parseDocument('\uFEFF{"version": 1}', { fileName: 'bom.json' }).version, 1);
});

test('several YAML documents in one text are refused by parseDocument with its own message', () => {
  const problems = problemsOf('version: 1\n---\nversion: 1\n');
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.line, 2);
  assert.match(problems[0]!.message, /a second YAML document starts here \(---\)/);
  assert.doesNotMatch(problems[0]!.message, /parseAllDocuments/);
});

test('inspectDocuments reads every document of a YAML stream, skipping empty ones', () => {
  const text = '---\nversion: 1\npools: []\n---\n# nothing\n---\nversion: 1\nextra: 1\n';
  const parsed = inspectDocuments(text, { fileName: 's.yaml' });
  assert.equal(parsed.length, 2);
  assert.deepEqual(parsed[0]!.doc?.pools, []);
  assert.deepEqual(
    parsed[1]!.problems.map((p) => [p.line, p.path]),
    [[8, 'extra']],
  );
  // One document (even after a leading ---) is one parse.
  assert.equal(inspectDocuments('---\nversion: 1\n', { fileName: 's.yaml' }).length, 1);
});
