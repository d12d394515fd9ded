import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPosternError } from '../core/index.js';
import type { ConfigProblemsError } from './errors.js';
import { identityProviderSchema } from './identity-provider.js';
import { mergeDocuments } from './merge-documents.js';
import { parseDocument } from './parse-document.js';
import { validateConfiguration } from './validate-configuration.js';

function issuerProblems(issuer: string): string[] {
  const parsed = identityProviderSchema.safeParse({ name: 'corp', issuer, client_id: 'postern' });
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

test('a plain http issuer on a network host is refused with advice to use https', () => {
  for (const issuer of [
    'http://login.example.com',
    'http://10.0.0.5:8080/realms/corp',
    'http://[2001:db8::1]/',
    'http://127.0.0.1.example.com/',
    'http://localhost.example.com/',
  ]) {
    const problems = issuerProblems(issuer);
    assert.equal(problems.length, 1, `${issuer}: ${problems.join('\n')}`);
    assert.match(problems[0] ?? '', /^issuer: must be an https URL.*loopback.*https issuer URL/);
  }
});

test('https issuers and plain http issuers on loopback are accepted', () => {
  for (const issuer of [
    'https://login.example.com/realms/corp',
    'https://10.0.0.5',
    'http://127.0.0.1:5556/dex',
    'http://127.1.2.3',
    'http://localhost:8080',
    'http://LOCALHOST',
    'http://[::1]:9000',
  ]) {
    assert.deepEqual(issuerProblems(issuer), [], issuer);
  }
});

test('an issuer that is not a URL gets one problem, not a second one about http', () => {
  const problems = issuerProblems('not a url');
  assert.equal(problems.length, 1, problems.join('\n'));
  assert.doesNotMatch(problems[0] ?? '', /loopback/);
});

test('a configuration document with a plain http issuer off loopback is refused', () => {
  const document = [
    'version: 1',
    'identity_providers:',
    '  - {name: corp, issuer: "http://login.example.com/realms/corp", client_id: postern}',
  ].join('\n');
  assert.throws(
    () =>
      validateConfiguration(mergeDocuments([parseDocument(document, { fileName: 'idp.yaml' })])),
    (err: ConfigProblemsError) => {
      assert.ok(isPosternError(err, 'POSTERN_ERR_CONFIG_INVALID'), String(err));
      const problems = err.problems.map((p) => `${p.path} — ${p.message}`);
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.match(problems[0] ?? '', /issuer — must be an https URL.*loopback/);
      return true;
    },
  );
});
