import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configJsonSchema } from './json-schema.js';
import { parseDocument } from './parse-document.js';

type Schema = Record<string, unknown>;

/**
 * A deliberately small JSON Schema checker covering the keywords the document schema uses
 * (type, const, enum, properties, required, additionalProperties, items, anyOf, oneOf, $ref,
 * bounds, pattern). It returns the paths that fail, so the test can prove it also rejects.
 * When no branch of anyOf/oneOf matches, it reports the branch of the value's own type.
 */
function check(root: Schema, schema: Schema, value: unknown, path = '$'): string[] {
  if (typeof schema['$ref'] === 'string') {
    const name = schema['$ref'].replace('#/$defs/', '');
    return check(root, (root['$defs'] as Record<string, Schema>)[name]!, value, path);
  }
  const errors: string[] = [];
  const fail = (why: string) => errors.push(`${path}: ${why}`);
  for (const keyword of ['anyOf', 'oneOf'] as const) {
    const branches = schema[keyword] as Schema[] | undefined;
    if (!branches) continue;
    const results = branches.map((s) => check(root, s, value, path));
    const matches = results.filter((r) => r.length === 0).length;
    if (keyword === 'oneOf' && matches > 1) fail('matches several oneOf branches');
    if (matches === 0) {
      const own = results.find((r) => !r.some((e) => e === `${path}: type`));
      errors.push(...(own ?? [`${path}: matches no ${keyword} branch`]));
    }
  }
  if ('const' in schema && value !== schema['const']) fail('const');
  if (Array.isArray(schema['enum']) && !schema['enum'].includes(value)) fail('enum');
  const type = schema['type'];
  if (type === 'object') {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return [...errors, `${path}: type`];
    const record = value as Record<string, unknown>;
    const props = (schema['properties'] ?? {}) as Record<string, Schema>;
    for (const key of (schema['required'] ?? []) as string[])
      if (!(key in record)) fail(`required ${key}`);
    for (const [key, v] of Object.entries(record)) {
      if (props[key]) errors.push(...check(root, props[key], v, `${path}.${key}`));
      else if (schema['additionalProperties'] === false) fail(`additional ${key}`);
    }
    const count = Object.keys(record).length;
    if (typeof schema['maxProperties'] === 'number' && count > schema['maxProperties'])
      fail('maxProperties');
  } else if (type === 'array') {
    if (!Array.isArray(value)) return [...errors, `${path}: type`];
    if (typeof schema['minItems'] === 'number' && value.length < schema['minItems'])
      fail('minItems');
    value.forEach((v, i) =>
      errors.push(...check(root, schema['items'] as Schema, v, `${path}[${i}]`)),
    );
  } else if (type === 'string') {
    if (typeof value !== 'string') return [...errors, `${path}: type`];
    if (typeof schema['pattern'] === 'string' && !new RegExp(schema['pattern']).test(value))
      fail('pattern');
  } else if (type === 'integer' || type === 'number') {
    if (typeof value !== 'number' || (type === 'integer' && !Number.isInteger(value)))
      return [...errors, `${path}: type`];
    if (typeof schema['minimum'] === 'number' && value < schema['minimum']) fail('minimum');
    if (typeof schema['maximum'] === 'number' && value > schema['maximum']) fail('maximum');
  } else if (type === 'boolean' && typeof value !== 'boolean') fail('type');
  return errors;
}

const PEM_CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const PEM_KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';

const example = {
  version: 1,
  connector_groups: [{ name: 'dc-east', description: 'East', auto_delete_after_days: 30 }],
  monitors: [
    { name: 'tcp-up' },
    {
      name: 'web-health',
      type: 'http',
      path: '/healthz',
      host_header: 'app.internal',
      expect_status: ['200', '301-302'],
      body_match: 'ok',
      delay_ms: 1000,
      timeout_ms: 500,
      failures: 2,
      successes: 1,
    },
  ],
  certificates: [{ name: 'app-cert', cert: PEM_CERT, key: PEM_KEY }],
  rules: [
    {
      name: 'headers',
      when: { host: '*.example.com', path_prefix: '/app', methods: ['GET', 'HEAD'] },
      request: [
        { set_header: { name: 'X-Env', value: 'prod' } },
        { append_header: { name: 'Via', value: 'postern' } },
        { remove_header: 'X-Debug' },
        { rewrite_path: { from: '/app', to: '/' } },
        { deny: { status: 403, body: 'not here' } },
      ],
      response: [{ remove_header: 'Server' }],
    },
  ],
  pools: [
    {
      name: 'web',
      via: 'dc-east',
      algorithm: 'least_connections',
      nodes: [
        { address: '10.0.0.1:80' },
        { address: 'b.internal:80', weight: 2, state: 'draining' },
      ],
      monitors: ['web-health'],
      passive_health: { failures: 3, on_5xx: true, eject_ms: 10000 },
      panic: 'none',
      persistence: { type: 'cookie', cookie_name: 'AFF', ttl_ms: 60000 },
    },
    {
      name: 'api',
      discovery: {
        dns: { name: '_http._tcp.api.default.svc', type: 'SRV', resolver: '127.0.0.1:53' },
      },
      persistence: { type: 'source_ip' },
    },
  ],
  virtual_servers: [
    { name: 'raw', listen: '[::]:8443', pool: 'web', connect_timeout_ms: 5000 },
    {
      name: 'site',
      protocol: 'https',
      listen: '0.0.0.0:443',
      pool: 'web',
      routes: [{ host: 'api.example.com', path_prefix: '/v1', pool: 'api' }],
      tls: { certificates: ['app-cert'], min_version: 'TLSv1.3', alpn: ['http/1.1'] },
      rules: ['headers'],
      limits: { max_header_bytes: 8192, max_headers: 50 },
      keepalive_timeout_ms: 5000,
      request_timeout_ms: 30000,
      forwarded_headers: false,
      retries: 2,
      error_detail: 'full',
      error_pages: { '503': { body: '<p>Later</p>' }, '502': { body: '{}', content_type: 'x/y' } },
    },
  ],
};

test('the exported JSON Schema describes the document and accepts the example', () => {
  const schema = configJsonSchema();
  assert.equal(schema['$schema'], 'https://json-schema.org/draft/2020-12/schema');
  assert.deepEqual(schema['required'], ['version']);
  assert.equal(schema['additionalProperties'], false);
  assert.deepEqual(check(schema, schema, example), []);
  // The same example is valid for the real parser, so the schema and the parser agree.
  parseDocument(JSON.stringify(example), { fileName: 'example.json' });
});

test('the exported JSON Schema rejects unknown keys, bad enums, bad names and out-of-range numbers', () => {
  const schema = configJsonSchema();
  const bad = {
    ...example,
    extra: 1,
    pools: [{ name: 'Web', algorithm: 'fastest', nodes: [{ address: 'x:1', weight: 0, why: 1 }] }],
    rules: [
      { name: 'r', request: [{ set_header: { name: 'A', value: 'b' }, remove_header: 'C' }] },
    ],
  };
  const expected = [
    '$: additional extra',
    '$.pools[0].algorithm: enum',
    '$.pools[0].name: pattern',
    '$.pools[0].nodes[0]: additional why',
    '$.pools[0].nodes[0].weight: minimum',
    '$.rules[0].request[0]: maxProperties',
  ];
  assert.deepEqual(check(schema, schema, bad).sort(), expected.sort());
  assert.deepEqual(check(schema, schema, { pools: [] }), ['$: required version']);
});

test('the exported JSON Schema lets text values be valueFrom file references, and nothing else', () => {
  const schema = configJsonSchema();
  const ref = (name: string) => ({ valueFrom: { fileRef: { name } } });
  const withRefs = {
    version: 1,
    certificates: [{ name: 'c', cert: ref('tls/app/tls.crt'), key: ref('tls/app/tls.key') }],
    monitors: [{ name: 'm', host_header: ref('data/host') }],
  };
  assert.deepEqual(check(schema, schema, withRefs), []);
  const wrong = {
    version: 1,
    certificates: [{ name: 'c', cert: { valueFrom: { secretRef: { name: 'x' } } }, key: PEM_KEY }],
    monitors: [{ name: 'm', type: ref('data/type'), delay_ms: ref('data/delay') }],
  };
  assert.deepEqual(check(schema, schema, wrong).sort(), [
    '$.certificates[0].cert.valueFrom: additional secretRef',
    '$.certificates[0].cert.valueFrom: required fileRef',
    '$.monitors[0].delay_ms: type',
    '$.monitors[0].type: enum',
    '$.monitors[0].type: type',
  ]);
});
