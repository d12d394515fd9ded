import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildVirtualServers } from './test-virtual-server-set.js';
import { VirtualServerSet } from './virtual-server-set.js';

test('every protocol gets the virtual server’s retries, tcp included', () => {
  const built = buildVirtualServers(new VirtualServerSet(), { p: '127.0.0.1:9' }, [
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
