import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPosternError } from '../core/index.js';
import type { ConfigProblemsError } from './errors.js';
import { parseDocument } from './parse-document.js';
import { statusMatches } from './status-spec.js';

/** Problems of an invalid document as `line:column path — message`. */
function problemsOf(lines: readonly string[]): string[] {
  try {
    parseDocument(lines.join('\n'), { fileName: 't.yaml' });
  } catch (err) {
    assert.ok(isPosternError(err, 'POSTERN_ERR_CONFIG_INVALID'), String(err));
    return (err as ConfigProblemsError).problems.map(
      (p) => `${p.line}:${p.column} ${p.path} — ${p.message}`,
    );
  }
  assert.fail('the document was accepted');
}

test('monitors get vTM-like defaults and expect_status is always a list of statuses', () => {
  const doc = parseDocument(
    'version: 1\nmonitors:\n  - {name: a}\n  - {name: b, type: https, expect_status: 204}\n',
    { fileName: 'm.yaml' },
  );
  assert.deepEqual(doc.monitors[0], {
    name: 'a',
    type: 'tcp',
    path: '/',
    expect_status: ['200-399'],
    delay_ms: 5000,
    timeout_ms: 2000,
    failures: 3,
    successes: 2,
  });
  assert.deepEqual(doc.monitors[1]?.expect_status, ['204']);
  assert.equal(statusMatches(['200', '301-302'], 302), true);
  assert.equal(statusMatches(['200', '301-302'], 303), false);
  assert.equal(statusMatches(['200-399'], 199), false);
});

test('http options on a tcp monitor are refused rather than silently ignored', () => {
  assert.deepEqual(
    problemsOf([
      'version: 1',
      'monitors:',
      '  - name: m',
      '    type: tcp',
      '    path: /healthz',
      '    host_header: app.internal',
      '    body_match: ok',
    ]),
    [
      '5:11 monitors[0].path — applies to http and https monitors only; set type: http (or https) or remove it',
      '6:18 monitors[0].host_header — applies to http and https monitors only; set type: http (or https) or remove it',
      '7:17 monitors[0].body_match — applies to http and https monitors only; set type: http (or https) or remove it',
    ],
  );
});

test('bad monitor fields are each reported', () => {
  assert.deepEqual(
    problemsOf([
      'version: 1',
      'monitors:',
      '  - name: m',
      '    type: icmp',
      '    path: healthz',
      '    expect_status: ["200", "399-200", "2xx"]',
      '    body_match: "(("',
      '    failures: 0',
    ]),
    [
      '4:11 monitors[0].type — must be one of "tcp", "http", "https"',
      '5:11 monitors[0].path — must start with "/" and hold no spaces or "#"',
      '6:28 monitors[0].expect_status[1] — the range "399-200" ends before it starts',
      '6:39 monitors[0].expect_status[2] — "2xx" is neither a status (e.g. "200") nor a range (e.g. "200-399")',
      '7:17 monitors[0].body_match — is not a valid regular expression: SyntaxError: Invalid regular expression: /((/: Unterminated group',
      '8:15 monitors[0].failures — must be at least 1',
    ],
  );
});

test('a pool may have no nodes only when discovery finds them; A lookups need a port', () => {
  const doc = parseDocument(
    [
      'version: 1',
      'pools:',
      '  - name: srv',
      '    discovery: {dns: {name: _http._tcp.web.default.svc.cluster.local, type: SRV}}',
      '  - name: a',
      '    discovery: {dns: {name: web.default.svc.cluster.local, port: 8080}}',
      '    persistence: {type: source_ip}',
    ].join('\n'),
    { fileName: 'p.yaml' },
  );
  assert.deepEqual(doc.pools[0]?.nodes, []);
  assert.deepEqual(doc.pools[1]?.discovery?.dns, {
    name: 'web.default.svc.cluster.local',
    type: 'A',
    port: 8080,
    min_interval_ms: 10000,
  });
  assert.deepEqual(doc.pools[1]?.persistence, { type: 'source_ip', ttl_ms: 3_600_000 });
  assert.deepEqual(
    problemsOf([
      'version: 1',
      'pools:',
      '  - name: a',
      '    discovery: {dns: {name: web.svc, resolver: "dns.internal:53"}}',
      '    persistence: {type: url}',
      '    panic: sometimes',
      '  - name: b',
    ]),
    [
      '4:22 pools[0].discovery.dns.port — is required for A and AAAA lookups (SRV records carry their own ports)',
      '4:48 pools[0].discovery.dns.resolver — must be an IP address and port, e.g. 10.96.0.10:53',
      '5:25 pools[0].persistence.type — type must be "cookie" or "source_ip"',
      '6:12 pools[0].panic — must be one of "all", "none"',
      '7:5 pools[1].nodes — a pool needs at least one node, or discovery to find them',
    ],
  );
});

test('rules hold exactly one action per step, and nothing may follow redirect or deny', () => {
  const doc = parseDocument(
    [
      'version: 1',
      'rules:',
      '  - name: r',
      '    request: [{deny: {}}]',
      '    response: [{set_header: {name: X-A, value: b}}]',
    ].join('\n'),
    { fileName: 'r.yaml' },
  );
  assert.deepEqual(doc.rules[0], {
    name: 'r',
    when: {},
    request: [{ deny: { status: 403, body: '' } }],
    response: [{ set_header: { name: 'X-A', value: 'b' } }],
  });
  assert.deepEqual(
    problemsOf([
      'version: 1',
      'rules:',
      '  - name: r',
      '    when: {host: "*.*.com", methods: [get]}',
      '    request:',
      '      - {}',
      '      - {set_header: {name: "Bad Name", value: x}, remove_header: Y}',
      '    response:',
      '      - {redirect: {location: /x}}',
      '  - name: s',
      '    request:',
      '      - redirect: {status: 200, location: /x}',
      '  - name: t',
      '    request:',
      '      - deny: {status: 451}',
      '      - remove_header: X',
    ]),
    [
      '4:18 rules[0].when.host — must be a host name, optionally starting with "*." (e.g. "api.example.com", "*.example.com")',
      '4:39 rules[0].when.methods[0] — must be an upper-case HTTP method, e.g. GET',
      '6:9 rules[0].request[0] — must hold exactly one action: one of set_header, append_header, remove_header, rewrite_path, redirect, deny',
      '7:9 rules[0].request[1] — must hold exactly one action: one of set_header, append_header, remove_header, rewrite_path, redirect, deny',
      '7:29 rules[0].request[1].set_header.name — must be an HTTP header name: letters, digits and !#$%&\'*+.^_`|~- (e.g. "X-Env")',
      '9:10 rules[0].response[0].redirect — unknown field "redirect"; remove it or correct its spelling',
      '12:28 rules[1].request[0].redirect.status — must be 301, 302, 303, 307 or 308',
      '16:9 rules[2].request[1] — never runs: the deny before it ends processing; move it first or remove it',
    ],
  );
});

test('virtual server fields that the protocol does not use are reported', () => {
  assert.deepEqual(
    problemsOf([
      'version: 1',
      'virtual_servers:',
      '  - {name: a, protocol: https, listen: "0.0.0.0:443", pool: p}',
      '  - name: b',
      '    listen: "0.0.0.0:80"',
      '    pool: p',
      '    tls: {certificates: [c]}',
      '    rules: [r]',
      '    routes: [{host: x.example.com, pool: q}]',
      '  - name: c',
      '    protocol: tls',
      '    listen: "0.0.0.0:8443"',
      '    pool: p',
      '    routes: [{host: x.example.com, path_prefix: /a, pool: q}, {pool: q}]',
      '    limits: {max_headers: 0}',
    ]),
    [
      '3:5 virtual_servers[0].tls — is required for https: name the certificates',
      '7:10 virtual_servers[1].tls — applies to https only (protocol is tcp); remove it or use https',
      '8:12 virtual_servers[1].rules — apply to http and https only, not tcp',
      '9:14 virtual_servers[1].routes[0] — tcp has nothing to route by; use protocol tls, http or https, or remove it',
      '14:49 virtual_servers[2].routes[0].path_prefix — tls passthrough sees no paths; route by host (SNI) only',
      "14:63 virtual_servers[2].routes[1] — a route needs a host or a path_prefix to match (the virtual server's pool serves the rest)",
      '15:27 virtual_servers[2].limits.max_headers — must be at least 1',
    ],
  );
});

test('certificates must hold PEM texts; names in reference lists may appear once', () => {
  assert.deepEqual(
    problemsOf([
      'version: 1',
      'certificates:',
      '  - {name: c, cert: "not pem", key: "-----BEGIN ENCRYPTED PRIVATE KEY-----\\nx\\n-----END ENCRYPTED PRIVATE KEY-----"}',
      'pools:',
      '  - {name: p, nodes: [{address: "a.b:1"}], monitors: [m, m]}',
    ]),
    [
      '3:21 certificates[0].cert — must hold a PEM certificate ("-----BEGIN CERTIFICATE-----"), chain after it if any',
      '3:37 certificates[0].key — must hold an unencrypted PEM private key ("-----BEGIN PRIVATE KEY-----", RSA or EC)',
      '5:54 pools[0].monitors — lists a name twice; name each object once',
    ],
  );
});
