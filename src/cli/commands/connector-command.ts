import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { Connector } from '../../connector/index.js';
import { createLogger, untilSignal } from '../logger.js';
import { packageVersion } from '../version.js';

const env = process.env;

/** `postern connector`: enrolls once, then keeps a tunnel to the edge. */
export function connectorCommand(program: Command): void {
  program
    .command('connector')
    .description('run a connector next to private applications (dials out to the edge)')
    .option(
      '--provision-key <key>',
      'provisioning key, needed for the first start only (env POSTERN_PROVISION_KEY)',
      env.POSTERN_PROVISION_KEY,
    )
    .option(
      '--provision-key-file <file>',
      'read the provisioning key from a file (env POSTERN_PROVISION_KEY_FILE)',
      env.POSTERN_PROVISION_KEY_FILE,
    )
    .option(
      '--state-dir <dir>',
      'where the identity is kept (env POSTERN_STATE_DIR)',
      env.POSTERN_STATE_DIR ?? './postern-connector',
    )
    .option(
      '--ephemeral',
      'remove this connector when it stops gracefully, returning its key use (env POSTERN_EPHEMERAL=1)',
      env.POSTERN_EPHEMERAL === '1',
    )
    .option(
      '--edge <host:port>',
      'edge address instead of the one in the key (env POSTERN_EDGE)',
      env.POSTERN_EDGE,
    )
    .option('--drain-timeout <seconds>', 'on SIGTERM, how long sessions may take to finish', '30')
    .action(
      async (o: {
        provisionKey?: string;
        provisionKeyFile?: string;
        stateDir: string;
        ephemeral: boolean;
        edge?: string;
        drainTimeout: string;
      }) => {
        const logger = createLogger();
        const provisionKey =
          o.provisionKey ??
          (o.provisionKeyFile ? (await readFile(o.provisionKeyFile, 'utf8')).trim() : undefined);
        const connector = new Connector({
          stateDir: o.stateDir,
          provisionKey,
          ephemeral: o.ephemeral,
          edgeAddress: o.edge,
          version: packageVersion(),
          logger,
        });
        const revoked = new Promise<Error>((resolve) => connector.once('revoked', resolve));
        await connector.start();
        const outcome = await Promise.race([untilSignal(), revoked]);
        if (outcome instanceof Error) {
          await connector.stop({ drainTimeoutMs: 0 });
          throw outcome;
        }
        logger.info({ signal: outcome, active: connector.counters.active }, 'connector draining');
        await connector.stop({ drainTimeoutMs: Number(o.drainTimeout) * 1000 });
      },
    );
}
