import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { mergeDocuments, parseDocument, validateConfiguration } from '../config/index.js';
import { DirectDialer, Pool } from '../traffic/index.js';
import { VirtualServerSet } from './virtual-server-set.js';

/** Builds (without starting) the virtual servers of a document with one pool `p` of one node. */
function buildFrom(virtualServers: string[]) {
  const config = validateConfiguration(
    mergeDocuments([
      parseDocument(
        [
          'version: 1',
          'pools:',
          '  - {name: p, nodes: [{address: "127.0.0.1:9"}]}',
          'virtual_servers:',
          ...virtualServers,
        ].join('\n'),
        { fileName: 'site.yaml' },
      ),
    ]),
  );
  const pool = new Pool({
    name: 'p',
    nodes: [{ address: '127.0.0.1:9', weight: 1, state: 'active' }],
  });
  return new VirtualServerSet().build({
    config,
    pools: new Map([['p', pool]]),
    dialer: new DirectDialer(),
    logger: pino({ level: 'silent' }),
    hooks: {
      onTcpSession: () => undefined,
      onTlsSession: () => undefined,
      onHttpRequest: () => undefined,
    },
  });
}

test('every protocol gets the virtual server’s retries, tcp included', () => {
  const built = buildFrom([
    '  - {name: t, protocol: tcp, listen: "127.0.0.1:18001", pool: p, retries: 3}',
    '  - {name: s, protocol: tls, listen: "127.0.0.1:18002", pool: p, retries: 0}',
    '  - {name: h, protocol: http, listen: "127.0.0.1:18003", pool: p, retries: 5}',
    '  - {name: d, protocol: tcp, listen: "127.0.0.1:18004", pool: p}',
  ]);
  const retries = Object.fromEntries(
    [...built].map(([name, b]) => [name, (b.options as { retries?: number }).retries]),
  );
  assert.deepEqual(retries, { t: 3, s: 0, h: 5, d: 1 });
});
