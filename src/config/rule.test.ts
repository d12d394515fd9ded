import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPosternError } from '../core/index.js';
import type { ConfigProblemsError } from './errors.js';
import { parseDocument } from './parse-document.js';
import { parseTemplate } from './rule-template.js';

/** Problems of an invalid document as `file:line:column path — message`. */
function problemsOf(lines: readonly string[]): string[] {
  try {
    parseDocument(lines.join('\n'), { fileName: 'r.yaml' });
  } catch (err) {
    assert.ok(isPosternError(err, 'POSTERN_ERR_CONFIG_INVALID'), String(err));
    return (err as ConfigProblemsError).problems.map(
      (p) => `${p.file}:${p.line}:${p.column} ${p.path} — ${p.message}`,
    );
  }
  assert.fail('the document was accepted');
}

const KNOWN =
  'known variables: {scheme}, {host}, {port}, {path}, {query}, {request_uri}, {client_ip} (write "{{" for a literal "{")';

test('rule conditions on header, query, cookie and client address are accepted', () => {
  const doc = parseDocument(
    [
      'version: 1',
      'rules:',
      '  - name: r',
      '    when:',
      '      header: {name: X-Env, prefix: prod}',
      '      query: {name: debug, present: true}',
      '      cookie: {name: beta, value: "on"}',
      '      client_ip: [10.0.0.0/8, "fd00::/8"]',
      '    request:',
      '      - set_header: {name: X-Uri, value: "{request_uri}"}',
      '      - redirect: {status: 301, location: "https://{host}{request_uri}"}',
    ].join('\n'),
    { fileName: 'r.yaml' },
  );
  assert.deepEqual(doc.rules[0]?.when, {
    header: { name: 'X-Env', prefix: 'prod' },
    query: { name: 'debug', present: true },
    cookie: { name: 'beta', value: 'on' },
    client_ip: ['10.0.0.0/8', 'fd00::/8'],
  });
});

test('unknown variables, bad networks and incomplete field tests are reported with file:line; response values stay literal', () => {
  assert.deepEqual(
    problemsOf([
      'version: 1',
      'rules:',
      '  - name: r',
      '    when:',
      '      header: {name: X-Env, value: a, present: true}',
      '      query: {name: "", present: true}',
      '      cookie: {name: sid}',
      '      client_ip: [10.0.0.0/33]',
      '    request:',
      '      - set_header: {name: X-A, value: "{hots}"}',
      '      - redirect: {location: "https://{host/x"}',
      '    response:',
      '      - set_header: {name: X-B, value: "{literal}"}',
    ]),
    [
      'r.yaml:5:15 rules[0].when.header — needs exactly one of value, prefix, present next to name',
      'r.yaml:6:21 rules[0].when.query.name — must be at least 1 character long',
      'r.yaml:7:15 rules[0].when.cookie — needs exactly one of value, present next to name',
      'r.yaml:8:19 rules[0].when.client_ip[0] — must be an IPv4 or IPv6 network in CIDR notation, e.g. 10.0.0.0/8 or fd00::/8',
      `r.yaml:10:40 rules[0].request[0].set_header.value — unknown variable {hots}; ${KNOWN}`,
      `r.yaml:11:30 rules[0].request[1].redirect.location — "{" without a closing "}"; ${KNOWN}`,
    ],
  );
});

test('templates: "{{" and "}}" are braces, adjacent text is merged', () => {
  assert.deepEqual(parseTemplate('a{{b}}c'), { ok: true, parts: ['a{b}c'] });
  assert.deepEqual(parseTemplate('x{host}}y'), {
    ok: true,
    parts: ['x', { variable: 'host' }, '}y'],
  });
  assert.deepEqual(parseTemplate(''), { ok: true, parts: [] });
});
