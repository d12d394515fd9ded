import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDocument } from '../config/index.js';
import { makeMessage, parseMessage } from '../protocol/index.js';
import { DirectDialer, Pool } from '../traffic/index.js';
import { connectorConfigFor } from './group-config.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----';
const CERT = '-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIBsecretkey\n-----END PRIVATE KEY-----';

/** The `config` the edge computes for group `site` from this document. */
function configFor(doc: ReturnType<typeof parseDocument>) {
  const pools = new Map(
    doc.pools.map((p) => [
      p.name,
      Pool.fromConfig(p, {
        monitors: doc.monitors,
        dialer: new DirectDialer(),
        monitorsRunRemotely: p.via !== undefined,
        discoveryRunsRemotely: p.via !== undefined,
      }),
    ]),
  );
  try {
    return connectorConfigFor('site', { number: 1, config: doc, pools });
  } finally {
    for (const pool of pools.values()) pool.close();
  }
}

const document = parseDocument(
  JSON.stringify({
    version: 1,
    monitors: [
      { name: 'hs', type: 'https' },
      { name: 'tc', type: 'tcp' },
      { name: 'strict', type: 'https', verify_tls: true },
    ],
    pools: [
      {
        name: 'plain',
        via: 'site',
        monitors: ['strict'],
        nodes: [{ address: 'a.internal:443' }],
      },
      {
        name: 'cas',
        via: 'site',
        monitors: ['hs', 'tc'],
        nodes: [{ address: 'b.internal:443' }, { address: 'c.internal:443' }],
        tls: { server_name: 'api.internal', ca: CA, min_version: 'TLSv1.3' },
      },
      {
        name: 'mtls',
        via: 'site',
        monitors: ['hs', 'tc'],
        nodes: [{ address: 'd.internal:443' }],
        tls: { ca: CA, cert: CERT, key: KEY },
      },
    ],
  }),
  { fileName: 'g.json' },
);

test("a via pool's tls reaches its connectors once, on the pool's first check, without the client key", () => {
  const out = configFor(document);
  const cas = out.monitors.filter((m) => m.pool === 'cas');
  assert.equal(cas.length, 4, 'two nodes × two monitors');
  assert.deepEqual(cas[0]?.tls, {
    verify: true,
    min_version: 'TLSv1.3',
    server_name: 'api.internal',
    ca: CA,
  });
  assert.deepEqual(
    cas.slice(1).map((m) => m.tls),
    [undefined, undefined, undefined],
  );
  const sent = JSON.stringify(out);
  assert.ok(!sent.includes('secretkey'), 'the client key was sent to the connector');
  assert.ok(!sent.includes('MIIBcert'), 'the client certificate was sent to the connector');
});

test('https checks of a via pool with a client certificate stay on the edge; its other checks go', () => {
  const mtls = configFor(document).monitors.filter((m) => m.pool === 'mtls');
  assert.deepEqual(
    mtls.map((m) => [m.monitor.name, m.tls]),
    [['tc', undefined]],
  );
});

test("a monitor's verify_tls reaches the connector; a pool without tls sends no tls", () => {
  const plain = configFor(document).monitors.filter((m) => m.pool === 'plain');
  assert.equal(plain.length, 1);
  assert.equal(plain[0]?.monitor.verify_tls, true);
  assert.equal(plain[0]?.tls, undefined);
});

test('the config message carries pool tls through the wire schema, unknown fields and versions kept', () => {
  const out = configFor(document);
  const first = out.monitors.find((m) => m.pool === 'cas');
  assert.ok(first?.tls);
  // A newer edge may add fields and TLS versions: the message must still parse (and be ignored).
  const newer = { ...first, tls: { ...first.tls, min_version: 'TLSv1.4', pinned: 'x' } };
  const parsed = parseMessage(
    JSON.parse(
      JSON.stringify(
        makeMessage({
          type: 'config',
          generation: 1,
          targets: out.targets,
          monitors: [...out.monitors, newer],
        }),
      ),
    ),
  );
  assert.equal(parsed?.type, 'config');
  const monitors = parsed.type === 'config' ? parsed.monitors : [];
  assert.deepEqual(monitors.find((m) => m.pool === 'cas')?.tls, first.tls);
  assert.equal(monitors.at(-1)?.tls?.min_version, 'TLSv1.4');
});
