import type { Command } from 'commander';
import { clearStaleSocket, prepareDataDir, randomServerId, startEdge } from '../../edge/index.js';
import { openStore } from '../../store/index.js';
import { createLogger } from '../logger.js';
import { packageVersion } from '../version.js';
import { addKonnectivityFlags, konnectivityOptions } from './konnectivity-flags.js';
import { accessOptions, addAccessFlags } from './access-flags.js';
import { activityOptions, addActivityFlags, type ActivityFlags } from './activity-flags.js';
import { addEnrollmentFlags, enrollmentOptions, type EnrollmentFlags } from './enrollment-flags.js';
import { addEdgeHaFlags, edgeHaOptions } from './ha-flags.js';
import { adminSignInOptions } from './admin-sign-in-flags.js';
import { GOOD_ADMIN_TOKEN_LENGTH, bootstrapAdminToken, readyLine } from './edge-admin-token.js';
import { secretFromValueOrFile } from './secret-file.js';
import { CLI_TOKEN_TTL_HELP, cliTokenTtlMs } from './cli-token-ttl-flag.js';
import { DEVICE_LOGIN_HELP, deviceLoginEnabled } from './device-login-flag.js';
import {
  finishWorker,
  reportReady,
  runPrimary,
  untilStop,
  workerPlan,
  workerServerId,
} from './edge-workers.js';
import {
  addShutdownFlags,
  shutdownOptions,
  workerStopTimeoutMs,
  type ShutdownFlags,
} from './shutdown-flags.js';

const env = process.env;

/** `postern edge`: runs the broker. */
export function edgeCommand(program: Command): void {
  addShutdownFlags(
    addEnrollmentFlags(
      addActivityFlags(
        addEdgeHaFlags(addAccessFlags(addKonnectivityFlags(program.command('edge')))),
      ),
    ),
  )
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
      '--store-file <file>',
      'read the --store URL from a file, e.g. a mounted Secret, so the password is not in the environment; not with --store (env POSTERN_STORE_FILE)',
      env.POSTERN_STORE_FILE,
    )
    .option(
      '--admin-token-file <file>',
      'read the bootstrap admin token from a file, e.g. a mounted Secret; not with POSTERN_ADMIN_TOKEN (env POSTERN_ADMIN_TOKEN_FILE)',
      env.POSTERN_ADMIN_TOKEN_FILE,
    )
    .option(
      '--tunnel-listen <host:port>',
      'where connectors dial in (env POSTERN_TUNNEL_LISTEN)',
      env.POSTERN_TUNNEL_LISTEN ?? '0.0.0.0:8443',
    )
    .option(
      '--advertise-address <host:port>',
      'address provisioning keys carry (env POSTERN_ADVERTISE_ADDRESS; default the tunnel address or host name)',
      // Empty is unset: keys carrying an empty address could never enroll.
      env.POSTERN_ADVERTISE_ADDRESS || undefined,
    )
    .option(
      '--admin-listen <host:port>',
      'admin API, /metrics, /healthz (env POSTERN_ADMIN_LISTEN)',
      env.POSTERN_ADMIN_LISTEN ?? '127.0.0.1:9090',
    )
    .option(
      '--config-dir <dir>',
      'configuration documents (YAML/JSON, read in lexical order), watched: a change, a ConfigMap update included, applies within a second (env POSTERN_CONFIG_DIR)',
      env.POSTERN_CONFIG_DIR,
    )
    .option(
      '--token-signing-key <file>',
      'PEM P-256 key that signs user tokens and assertions; HA: the same file on every edge (env POSTERN_TOKEN_SIGNING_KEY; default <data-dir>/token-signing-key.pem)',
      env.POSTERN_TOKEN_SIGNING_KEY,
    )
    .option(
      '--cli-identity-provider <name>',
      'identity provider `postern login` uses (env POSTERN_CLI_IDENTITY_PROVIDER; default the only one configured, or with several the one the user picks)',
      env.POSTERN_CLI_IDENTITY_PROVIDER,
    )
    .option('--cli-token-ttl <duration>', CLI_TOKEN_TTL_HELP, env.POSTERN_CLI_TOKEN_TTL)
    .option('--device-login <on|off>', DEVICE_LOGIN_HELP, env.POSTERN_DEVICE_LOGIN)
    .option(
      '--admin-identity-provider <name>',
      'identity provider administrators sign in to the console with (env POSTERN_ADMIN_IDENTITY_PROVIDER; needs --admin-role-groups)',
      env.POSTERN_ADMIN_IDENTITY_PROVIDER,
    )
    .option(
      '--admin-role-groups <mapping>',
      'admin roles of identity-provider groups or emails, e.g. admin=postern-admins,operator=ops,viewer=staff (env POSTERN_ADMIN_ROLE_GROUPS)',
      env.POSTERN_ADMIN_ROLE_GROUPS,
    )
    .option(
      '--admin-require-if-match',
      'refuse admin API PUT, PATCH and DELETE without If-Match (428) (env POSTERN_ADMIN_REQUIRE_IF_MATCH=1)',
      env.POSTERN_ADMIN_REQUIRE_IF_MATCH === '1',
    )
    .option(
      '--server-id <id>',
      "this edge's id in an HA set (env POSTERN_SERVER_ID; default random)",
      env.POSTERN_SERVER_ID,
    )
    .action(
      async (
        o: {
          dataDir: string;
          store?: string;
          storeFile?: string;
          adminTokenFile?: string;
          tunnelListen: string;
          advertiseAddress?: string;
          adminListen: string;
          configDir?: string;
          serverId?: string;
          adminRequireIfMatch?: boolean;
          tokenSigningKey?: string;
          cliIdentityProvider?: string;
          cliTokenTtl?: string;
          deviceLogin?: string;
          adminIdentityProvider?: string;
          adminRoleGroups?: string;
          leaseTtl?: string;
          configPoll?: string;
          keepaliveInterval?: string;
          keepaliveTimeout?: string;
          workers?: string;
        } & ActivityFlags &
          EnrollmentFlags &
          ShutdownFlags,
      ) => {
        const logger = createLogger();
        const store = await secretFromValueOrFile({
          value: o.store,
          file: o.storeFile,
          valueName: '--store or POSTERN_STORE',
          fileName: '--store-file',
        });
        const plan = workerPlan(o.workers, store);
        const shutdown = shutdownOptions(o);
        const cliTokenTtl = cliTokenTtlMs(o.cliTokenTtl);
        const deviceLogin = deviceLoginEnabled(o.deviceLogin);
        const tokenSource = o.adminTokenFile
          ? `--admin-token-file ${o.adminTokenFile}`
          : 'POSTERN_ADMIN_TOKEN';
        const adminToken = bootstrapAdminToken(
          await secretFromValueOrFile({
            value: env.POSTERN_ADMIN_TOKEN,
            file: o.adminTokenFile,
            valueName: 'POSTERN_ADMIN_TOKEN',
            fileName: '--admin-token-file',
          }),
          tokenSource,
        );
        if (
          adminToken !== undefined &&
          adminToken.length < GOOD_ADMIN_TOKEN_LENGTH &&
          plan.role !== 'worker'
        ) {
          logger.warn(
            `the bootstrap admin token (POSTERN_ADMIN_TOKEN or --admin-token-file) is shorter than ${GOOD_ADMIN_TOKEN_LENGTH} characters; make a stronger one with \`openssl rand -hex 32\``,
          );
        }
        if (plan.role === 'primary') {
          // Created once here, so the workers starting together only load them.
          await prepareDataDir(o.dataDir, {
            adminToken,
            tokenSigningKey: o.tokenSigningKey,
          });
          // The workers share the frontend socket through this process and never remove a
          // file there (a sibling may serve it): a crashed edge's left-over socket goes here.
          const uds = konnectivityOptions(o)?.udsPath;
          if (uds !== undefined) await clearStaleSocket(uds);
          await runPrimary(plan.count, {
            baseServerId: o.serverId ?? randomServerId(),
            logger,
            stopTimeoutMs: workerStopTimeoutMs(shutdown),
          });
          return;
        }
        const edge = await startEdge({
          dataDir: o.dataDir,
          openStore: () => openStore({ dataDir: o.dataDir, store }),
          tunnelListen: o.tunnelListen,
          advertiseAddress: o.advertiseAddress,
          adminListen: o.adminListen,
          configDir: o.configDir,
          version: packageVersion(),
          adminToken,
          adminRequireIfMatch: o.adminRequireIfMatch === true,
          ...workerServerId(plan, o.serverId),
          ...edgeHaOptions(o),
          ...activityOptions(o),
          ...enrollmentOptions(o),
          ...shutdown,
          konnectivity: konnectivityOptions(o),
          access: accessOptions(o),
          tokenSigningKey: o.tokenSigningKey,
          cliIdentityProvider: o.cliIdentityProvider,
          cliTokenTtlMs: cliTokenTtl,
          deviceLogin,
          adminSignIn: adminSignInOptions(o),
          logger,
        });
        process.stderr.write(
          readyLine({
            tunnel: edge.tunnelAddress,
            advertiseAddress: edge.advertiseAddress,
            adminUrl: edge.adminUrl,
            dataDir: o.dataDir,
            tokenSource: adminToken === undefined ? undefined : tokenSource,
          }),
        );
        if (edge.accessUrl) process.stderr.write(`postern edge access proxy: ${edge.accessUrl}\n`);
        reportReady();
        const signal = await untilStop();
        logger.info({ signal }, 'edge shutting down');
        await edge.close();
        finishWorker();
      },
    );
}
