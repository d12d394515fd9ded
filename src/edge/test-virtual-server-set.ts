// Test support: builds a VirtualServerSet's servers from document lines, as the runtime would.
import { pino } from 'pino';
import { mergeDocuments, parseDocument, validateConfiguration } from '../config/index.js';
import { DirectDialer, Pool } from '../traffic/index.js';
import type { VirtualServerSet } from './virtual-server-set.js';

/**
 * Builds (without starting) the virtual servers listed in `virtualServers` (document lines under
 * `virtual_servers:`), over one pool per entry of `pools` (name → its single node's address).
 */
export function buildVirtualServers(
  set: VirtualServerSet,
  pools: Readonly<Record<string, string>>,
  virtualServers: readonly string[],
) {
  const entries = Object.entries(pools);
  const config = validateConfiguration(
    mergeDocuments([
      parseDocument(
        [
          'version: 1',
          'pools:',
          ...entries.map(
            ([name, address]) => `  - {name: ${name}, nodes: [{address: "${address}"}]}`,
          ),
          'virtual_servers:',
          ...virtualServers,
        ].join('\n'),
        { fileName: 'site.yaml' },
      ),
    ]),
  );
  return set.build({
    config,
    pools: new Map(
      entries.map(([name, address]) => [
        name,
        new Pool({ name, nodes: [{ address, weight: 1, state: 'active' }] }),
      ]),
    ),
    dialer: new DirectDialer(),
    logger: pino({ level: 'silent' }),
    hooks: {
      onTcpSession: () => undefined,
      onTlsSession: () => undefined,
      onHttpRequest: () => undefined,
    },
  });
}
