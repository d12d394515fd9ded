import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPosternError } from '../core/index.js';
import type { ConfigProblemsError } from './errors.js';
import { mergeDocuments } from './merge-documents.js';
import { parseDocument } from './parse-document.js';
import { parsePortRange } from './port-range.js';
import { validateConfiguration } from './validate-configuration.js';

/** Problems of a document as `line:column path — message`, from parsing or cross-checking. */
function problemsOf(lines: readonly string[]): string[] {
  try {
    validateConfiguration(
      mergeDocuments([parseDocument(lines.join('\n'), { fileName: 't.yaml' })]),
    );
  } catch (err) {
    assert.ok(
      isPosternError(err, 'POSTERN_ERR_CONFIG_INVALID') ||
        isPosternError(err, 'POSTERN_ERR_CONFIG_REFERENCE'),
      String(err),
    );
    return (err as ConfigProblemsError).problems.map(
      (p) => `${p.line}:${p.column} ${p.path} — ${p.message}`,
    );
  }
  assert.fail('the document was accepted');
}

const sound = [
  'version: 1',
  'connector_groups: [{name: dc}]',
  'pools: [{name: web, nodes: [{address: "10.0.0.1:80"}]}]',
  'virtual_servers: [{name: wiki, listen: "0.0.0.0:8080", pool: web}]',
  'applications:',
  '  - name: db',
  '    domains: [db.corp.internal, "*.db.corp.internal"]',
  '    cidrs: [10.1.0.0/16, "fd00::/8"]',
  '    ports: [5432, "8000-8100"]',
  '    connector_groups: [dc]',
  'access_policies:',
  '  - name: deny-contractors',
  '    action: deny',
  '    conditions: {groups: [contractors], client_types: [tcp_client]}',
  '  - name: db-admins',
  '    action: allow',
  '    conditions:',
  '      users: [alice@example.com]',
  '      applications: [db]',
  '      virtual_servers: [wiki]',
  '      source_cidrs: [192.0.2.0/24]',
  '  - {name: everyone-else, action: deny}',
];

test('applications and access policies parse with defaults, keeping rule order', () => {
  const doc = parseDocument(sound.join('\n'), { fileName: 'a.yaml' });
  assert.deepEqual(doc.applications[0], {
    name: 'db',
    domains: ['db.corp.internal', '*.db.corp.internal'],
    cidrs: ['10.1.0.0/16', 'fd00::/8'],
    ports: ['5432', '8000-8100'],
    connector_groups: ['dc'],
    enabled: true,
    health_reporting: 'on_access',
  });
  assert.deepEqual(
    doc.access_policies.map((r) => r.name),
    ['deny-contractors', 'db-admins', 'everyone-else'],
  );
  assert.deepEqual(doc.access_policies[2]?.conditions, {});
  assert.doesNotThrow(() => validateConfiguration(mergeDocuments([doc])));
});

test('bad application fields are each reported at their path', () => {
  assert.deepEqual(
    problemsOf([
      'version: 1',
      'applications:',
      '  - name: a',
      '    domains: ["db..corp", "10.0.0.5"]',
      '    cidrs: [10.0.0.0/33]',
      '    ports: ["0", "9000-8000", "http", 70000]',
      '    connector_groups: []',
      '  - {name: b, ports: [22], connector_groups: [dc]}',
      '  - {name: c, domains: [x.internal], ports: [], connector_groups: [dc], extra: 1}',
    ]),
    [
      '4:15 applications[0].domains[0] — must be a host name, optionally starting with "*." (e.g. "api.example.com", "*.example.com")',
      '4:27 applications[0].domains[1] — is an IP address; list it under cidrs instead (e.g. "10.0.0.5/32")',
      '5:13 applications[0].cidrs[0] — must be an IPv4 or IPv6 network in CIDR notation, e.g. 10.0.0.0/8 or fd00::/8',
      '6:13 applications[0].ports[0] — "0" is outside 1..65535',
      '6:18 applications[0].ports[1] — the range "9000-8000" ends before it starts',
      '6:31 applications[0].ports[2] — "http" is neither a port (e.g. "5432") nor a range (e.g. "8000-8100")',
      '6:39 applications[0].ports[3] — "70000" is outside 1..65535',
      '7:23 applications[0].connector_groups — must name at least one connector group that can reach the application',
      '8:5 applications[1].domains — an application needs at least one entry in domains or cidrs',
      '9:45 applications[2].ports — must list at least one port or range, e.g. ["443", "8000-8100"]',
      '9:73 applications[2].extra — unknown field "extra"; remove it or correct its spelling',
    ],
  );
});

test('bad access policy fields are each reported at their path', () => {
  const problems = problemsOf([
    'version: 1',
    'access_policies:',
    '  - name: r',
    '    action: permit',
    '    conditions:',
    '      client_types: [browser, laptop]',
    '      source_cidrs: [192.0.2.0]',
    '      users: ["has space"]',
    '      colour: blue',
    '  - {name: r, action: allow}',
  ]);
  assert.deepEqual(problems, [
    '4:13 access_policies[0].action — must be "allow" or "deny"',
    '6:31 access_policies[0].conditions.client_types[1] — must be one of "browser", "tcp_client", "system"',
    '7:22 access_policies[0].conditions.source_cidrs[0] — must be an IPv4 or IPv6 network in CIDR notation, e.g. 10.0.0.0/8 or fd00::/8',
    '8:15 access_policies[0].conditions.users[0] — must be an email address or subject without spaces',
    '9:7 access_policies[0].conditions.colour — unknown field "colour"; remove it or correct its spelling',
    '10:12 access_policies[1].name — duplicate name "r" in access_policies (first at access_policies[0]); each name may appear once',
  ]);
});

test('cross references to groups, applications and virtual servers must resolve', () => {
  assert.deepEqual(
    problemsOf([
      'version: 1',
      'applications:',
      '  - {name: db, cidrs: [10.0.0.0/8], ports: [5432], connector_groups: [dc-west]}',
      'access_policies:',
      '  - name: r',
      '    action: allow',
      '    conditions: {applications: [db, crm], virtual_servers: [wiki]}',
    ]),
    [
      '3:71 applications[0].connector_groups[0] — connector group "dc-west" does not exist; create it with `postern groups create dc-west`, add it under connector_groups, or correct the name',
      '7:37 access_policies[0].conditions.applications[1] — application "crm" does not exist; define it under applications or correct the name',
      '7:61 access_policies[0].conditions.virtual_servers[0] — virtual server "wiki" does not exist; define it under virtual_servers or correct the name',
    ],
  );
});

test('port ranges parse to inclusive bounds and invalid text to undefined', () => {
  assert.deepEqual(parsePortRange('5432'), { from: 5432, to: 5432 });
  assert.deepEqual(parsePortRange('8000-8100'), { from: 8000, to: 8100 });
  assert.equal(parsePortRange('8100-8000'), undefined);
  assert.equal(parsePortRange('0'), undefined);
});
