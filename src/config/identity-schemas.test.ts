import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPosternError } from '../core/index.js';
import type { ConfigProblemsError } from './errors.js';
import { mergeDocuments } from './merge-documents.js';
import { parseDocument } from './parse-document.js';
import { validateConfiguration } from './validate-configuration.js';

function load(lines: readonly string[]) {
  return validateConfiguration(
    mergeDocuments([parseDocument(lines.join('\n'), { fileName: 't.yaml' })]),
  );
}

/** Problems of a document as `path — message`. */
function problemsOf(lines: readonly string[]): string[] {
  try {
    load(lines);
  } catch (err) {
    assert.ok(
      isPosternError(err, 'POSTERN_ERR_CONFIG_INVALID') ||
        isPosternError(err, 'POSTERN_ERR_CONFIG_REFERENCE'),
      String(err),
    );
    return (err as ConfigProblemsError).problems.map((p) => `${p.path} — ${p.message}`);
  }
  assert.fail('the document was accepted');
}

const CERT = '"-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----"';

const base = [
  'version: 1',
  'pools: [{name: web, nodes: [{address: "10.0.0.1:80"}]}]',
  'identity_providers:',
  '  - name: corp',
  '    issuer: https://login.example.com',
  '    client_id: postern',
  '    client_secret: s3cret',
];

test('an identity provider gets the default scopes, claim names and timeout', () => {
  const config = load(base);
  const idp = config.identity_providers[0];
  assert.deepEqual(idp?.scopes, ['openid', 'email', 'profile']);
  assert.deepEqual(idp?.claims, { email: 'email', groups: 'groups' });
  assert.equal(idp?.timeout_ms, 10_000);
});

test('an identity provider needs an issuer URL and the openid scope', () => {
  const problems = problemsOf([
    'version: 1',
    'identity_providers:',
    `  - {name: corp, issuer: "not a url", client_id: x, scopes: [email], ca: ${CERT.replace('BEGIN', 'BEGUN')}}`,
  ]);
  assert.equal(problems.length, 3, problems.join('\n'));
  assert.ok(problems.some((p) => p.includes('issuer')));
  assert.ok(problems.some((p) => p.includes('scopes') && p.includes('openid')));
  assert.ok(problems.some((p) => p.includes('ca')));
});

test('browser access defaults to login with 30 min idle and 24 h re-authentication', () => {
  const lines = [
    ...base,
    'virtual_servers:',
    '  - name: wiki',
    '    protocol: https',
    '    listen: "0.0.0.0:443"',
    '    pool: web',
    '    tls: {certificates: [c]}',
    '    access: {identity_provider: corp}',
  ];
  // Parsed only: the certificate "c" is not defined, which is not what this test is about.
  const config = mergeDocuments([parseDocument(lines.join('\n'), { fileName: 't.yaml' })]);
  const access = config.virtual_servers[0]?.access;
  assert.deepEqual(access, {
    login: 'required',
    identity_provider: 'corp',
    idle_timeout_ms: 1_800_000,
    reauthentication_timeout_ms: 86_400_000,
    identity_headers: true,
    assertion: true,
  });
});

test('browser access needs https, a known identity provider and timeouts of 10 min or more', () => {
  const problems = problemsOf([
    ...base,
    'virtual_servers:',
    '  - {name: a, protocol: http, listen: "0.0.0.0:80", pool: web, access: {identity_provider: corp}}',
    '  - {name: b, protocol: https, listen: "0.0.0.0:443", pool: web, tls: {certificates: [c]}, access: {login: required}}',
    '  - {name: c, protocol: https, listen: "0.0.0.0:444", pool: web, tls: {certificates: [c]}, access: {identity_provider: corp, idle_timeout_ms: 1000}}',
  ]);
  assert.ok(
    problems.some((p) => p.includes('virtual_servers[0].access') && p.includes('https')),
    problems.join('\n'),
  );
  assert.ok(
    problems.some((p) => p.includes('virtual_servers[1].access.identity_provider')),
    problems.join('\n'),
  );
  assert.ok(
    problems.some((p) => p.includes('virtual_servers[2].access.idle_timeout_ms')),
    problems.join('\n'),
  );
});

test('a virtual server naming an unknown identity provider is a reference problem', () => {
  const problems = problemsOf([
    ...base,
    'virtual_servers:',
    '  - {name: a, protocol: https, listen: "0.0.0.0:443", pool: web, tls: {certificates: [c]}, access: {identity_provider: nope}}',
  ]);
  assert.ok(
    problems.some((p) => p.includes('access.identity_provider') && p.includes('nope')),
    problems.join('\n'),
  );
});
