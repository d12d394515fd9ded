import { join } from 'node:path';
import type { Command } from 'commander';
import { startEdge } from '../../edge/index.js';
import { openStore } from '../../store/index.js';
import { createLogger, untilSignal } from '../logger.js';
import { packageVersion } from '../version.js';

const env = process.env;

/** `postern edge`: runs the broker. */
export function edgeCommand(program: Command): void {
  program
    .command('edge')
    .description('run an edge: tunnel port for connectors, virtual servers, admin API')
    .option(
      '--data-dir <dir>',
      'state: CA, admin token, embedded store (env POSTERN_DATA_DIR)',
      env.POSTERN_DATA_DIR ?? './postern-data',
    )
    .option(
      '--store <url>',
      'PostgreSQL store, postgres://user:password@host:5432/db (env POSTERN_STORE; default the embedded store in --data-dir)',
      env.POSTERN_STORE,
    )
    .option(
      '--tunnel-listen <host:port>',
      'where connectors dial in (env POSTERN_TUNNEL_LISTEN)',
      env.POSTERN_TUNNEL_LISTEN ?? '0.0.0.0:8443',
    )
    .option(
      '--advertise-address <host:port>',
      'address provisioning keys carry (env POSTERN_ADVERTISE_ADDRESS; default the tunnel address or host name)',
      env.POSTERN_ADVERTISE_ADDRESS,
    )
    .option(
      '--admin-listen <host:port>',
      'admin API, /metrics, /healthz (env POSTERN_ADMIN_LISTEN)',
      env.POSTERN_ADMIN_LISTEN ?? '127.0.0.1:9090',
    )
    .option(
      '--config-dir <dir>',
      'configuration documents read at start (env POSTERN_CONFIG_DIR)',
      env.POSTERN_CONFIG_DIR,
    )
    .option(
      '--server-id <id>',
      "this edge's id in an HA set (env POSTERN_SERVER_ID)",
      env.POSTERN_SERVER_ID,
    )
    .action(
      async (o: {
        dataDir: string;
        store?: string;
        tunnelListen: string;
        advertiseAddress?: string;
        adminListen: string;
        configDir?: string;
        serverId?: string;
      }) => {
        const logger = createLogger();
        const edge = await startEdge({
          dataDir: o.dataDir,
          openStore: () => openStore({ dataDir: o.dataDir, store: o.store }),
          tunnelListen: o.tunnelListen,
          advertiseAddress: o.advertiseAddress,
          adminListen: o.adminListen,
          configDir: o.configDir,
          version: packageVersion(),
          adminToken: env.POSTERN_ADMIN_TOKEN,
          ...(o.serverId ? { serverId: o.serverId } : {}),
          logger,
        });
        process.stderr.write(
          `postern edge ready: tunnel ${edge.advertiseAddress}, admin ${edge.adminUrl} (token in ${join(o.dataDir, 'admin-token')} unless POSTERN_ADMIN_TOKEN is set)\n`,
        );
        const signal = await untilSignal();
        logger.info({ signal }, 'edge shutting down');
        await edge.close();
      },
    );
}
