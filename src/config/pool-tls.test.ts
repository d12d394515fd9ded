import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDocument } from './parse-document.js';
import { documentProblems } from './test-document-problems.js';

const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';

test('a pool tls block gets verify on, TLSv1.2 at least and no SNI override by default', () => {
  const doc = parseDocument(
    [
      'version: 1',
      'pools:',
      '  - name: p',
      '    nodes: [{address: "10.0.0.1:443"}]',
      '    tls: {}',
    ].join('\n'),
    { fileName: 'p.yaml' },
  );
  assert.deepEqual(doc.pools[0]?.tls, { enabled: true, verify: true, min_version: 'TLSv1.2' });
});

test('a pool tls block keeps server_name, ca, a client certificate and verify: false', () => {
  const doc = parseDocument(
    JSON.stringify({
      version: 1,
      pools: [
        {
          name: 'p',
          nodes: [{ address: '10.0.0.1:443' }],
          tls: {
            server_name: 'api.internal',
            verify: false,
            ca: CERT,
            cert: CERT,
            key: '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----',
            min_version: 'TLSv1.3',
          },
        },
      ],
    }),
    { fileName: 'p.json' },
  );
  const tls = doc.pools[0]?.tls;
  assert.equal(tls?.server_name, 'api.internal');
  assert.equal(tls?.verify, false);
  assert.equal(tls?.ca, CERT);
  assert.equal(tls?.min_version, 'TLSv1.3');
});

test('a client cert needs its key, ca must be PEM and min_version one of the known', () => {
  assert.deepEqual(
    documentProblems([
      'version: 1',
      'pools:',
      '  - name: q',
      '    nodes: [{address: "10.0.0.1:443"}]',
      `    tls: {cert: ${JSON.stringify(CERT)}, ca: nope, min_version: TLSv1.0}`,
    ]),
    [
      'pools[0].tls.key — cert and key go together: set both for a client certificate, or neither',
      'pools[0].tls.ca — must hold a PEM certificate ("-----BEGIN CERTIFICATE-----")',
      'pools[0].tls.min_version — must be one of "TLSv1.2", "TLSv1.3"',
    ],
  );
});

test('a via pool accepts tls: the edge runs TLS to the node through the tunnel', () => {
  const doc = parseDocument(
    [
      'version: 1',
      'pools:',
      '  - name: p',
      '    via: dc1',
      '    nodes: [{address: "api.internal:443"}]',
      `    tls: {server_name: api.internal, ca: ${JSON.stringify(CERT)}}`,
    ].join('\n'),
    { fileName: 'p.yaml' },
  );
  assert.equal(doc.pools[0]?.via, 'dc1');
  assert.deepEqual(doc.pools[0]?.tls, {
    enabled: true,
    server_name: 'api.internal',
    verify: true,
    ca: CERT,
    min_version: 'TLSv1.2',
  });
});

test('a via pool may carry tls when it is disabled', () => {
  const doc = parseDocument(
    [
      'version: 1',
      'pools:',
      '  - name: p',
      '    via: dc1',
      '    nodes: [{address: "10.0.0.1:443"}]',
      '    tls: {enabled: false}',
    ].join('\n'),
    { fileName: 'p.yaml' },
  );
  assert.equal(doc.pools[0]?.tls?.enabled, false);
});
