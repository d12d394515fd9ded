import type { Command } from 'commander';
import {
  Connector,
  ConnectorMetrics,
  inClusterConnection,
  kubeconfigConnection,
  parseAgentIdentifiers,
  startProbeServer,
  type KubernetesDiscoveryOptions,
} from '../../connector/index.js';
import { createLogger, untilSignal } from '../logger.js';
import { packageVersion } from '../version.js';
import { addConnectorHaFlags, connectorHaOptions, edgeAddressOptions } from './ha-flags.js';
import { secretFromValueOrFile } from './secret-file.js';
import { drainTimeoutFlag } from './shutdown-flags.js';

const env = process.env;

/** `--drain-timeout` when not given (the Kubernetes manifests give 30 as well). */
const DEFAULT_DRAIN_TIMEOUT_SECONDS = 30;

/** Why /readyz answers 503 while an administrator has the connector drained. */
function drainedReason(connectorId: string): string {
  return `drained by the edge's operator: no new sessions (\`postern connectors undrain ${connectorId}\` lifts it)`;
}

/** `postern connector`: enrolls once, then keeps a tunnel to the edge. */
export function connectorCommand(program: Command): void {
  addConnectorHaFlags(program.command('connector'))
    .description('run a connector next to private applications (dials out to the edge)')
    .option(
      '--provision-key <key>',
      'provisioning key: needed for the first start, after the certificate expired while offline, and by --ephemeral connectors on every start (env POSTERN_PROVISION_KEY)',
      env.POSTERN_PROVISION_KEY,
    )
    .option(
      '--provision-key-file <file>',
      'read the provisioning key from a file, e.g. a mounted Secret; not with --provision-key (env POSTERN_PROVISION_KEY_FILE)',
      env.POSTERN_PROVISION_KEY_FILE,
    )
    .option(
      '--state-dir <dir>',
      'where the identity is kept (env POSTERN_STATE_DIR)',
      env.POSTERN_STATE_DIR ?? './postern-connector',
    )
    .option(
      '--ephemeral',
      'remove this connector when it stops gracefully, returning its key use, and delete its stored identity; the next start enrolls again with the provisioning key (env POSTERN_EPHEMERAL=1)',
      env.POSTERN_EPHEMERAL === '1',
    )
    .option(
      '--edge <host:port[,host:port…]>',
      'edge address instead of the one in the key, or a comma list of edges (env POSTERN_EDGE)',
      env.POSTERN_EDGE,
    )
    .option(
      '--drain-timeout <seconds>',
      'on SIGTERM, how long sessions may take to finish, 0 to 3600; then those left are cut',
      String(DEFAULT_DRAIN_TIMEOUT_SECONDS),
    )
    .option(
      '--agent-identifiers <query>',
      'Konnectivity agent identifiers, e.g. host=node1&ipv4=10.0.0.5&cidr=10.0.0.0/16&default-route=true; the edge may dial what they cover (env POSTERN_AGENT_IDENTIFIERS)',
      env.POSTERN_AGENT_IDENTIFIERS,
    )
    .option(
      '--probe-listen <host:port>',
      'serve /healthz and /readyz (ready while a tunnel is up and no administrator drained it) for the kubelet, and /metrics for Prometheus (env POSTERN_PROBE_LISTEN)',
      env.POSTERN_PROBE_LISTEN,
    )
    .option(
      '--kubernetes-discovery',
      'report Services annotated postern.dev/expose to the edge (env POSTERN_KUBERNETES_DISCOVERY=1)',
      env.POSTERN_KUBERNETES_DISCOVERY === '1',
    )
    .option(
      '--kubernetes-namespaces <list>',
      "comma-separated namespaces to discover in; default the pod's own (env POSTERN_KUBERNETES_NAMESPACES)",
      env.POSTERN_KUBERNETES_NAMESPACES,
    )
    .option(
      '--kubeconfig <file>',
      "reach the Kubernetes API with this kubeconfig instead of the pod's service account (env POSTERN_KUBECONFIG)",
      env.POSTERN_KUBECONFIG,
    )
    .action(
      async (o: {
        provisionKey?: string;
        provisionKeyFile?: string;
        stateDir: string;
        ephemeral: boolean;
        edge?: string;
        drainTimeout: string;
        agentIdentifiers?: string;
        kubernetesDiscovery: boolean;
        kubernetesNamespaces?: string;
        kubeconfig?: string;
        probeListen?: string;
        keepaliveInterval?: string;
        keepaliveTimeout?: string;
        syncInterval?: string;
      }) => {
        // Checked before anything starts: a bad value found only at SIGTERM would cut every session.
        const drainTimeoutMs =
          drainTimeoutFlag(o.drainTimeout) ?? DEFAULT_DRAIN_TIMEOUT_SECONDS * 1000;
        const logger = createLogger();
        const provisionKey = await secretFromValueOrFile({
          value: o.provisionKey,
          file: o.provisionKeyFile,
          valueName: '--provision-key or POSTERN_PROVISION_KEY',
          fileName: '--provision-key-file',
        });
        const connector = new Connector({
          stateDir: o.stateDir,
          provisionKey,
          ephemeral: o.ephemeral,
          ...edgeAddressOptions(o.edge),
          ...connectorHaOptions(o),
          identifiers: parseAgentIdentifiers(o.agentIdentifiers ?? ''),
          kubernetesDiscovery: await kubernetesOptions(o),
          version: packageVersion(),
          logger,
          metrics: new ConnectorMetrics({ defaultMetrics: true }),
        });
        // Revoked, unknown, expired offline without a key, key refused for good: exit 1.
        const halt = new Promise<Error>((resolve) => connector.once('halted', resolve));
        let halted = false;
        void halt.then(() => (halted = true));
        const probes = o.probeListen
          ? await startProbeServer(o.probeListen, {
              alive: () => !halted,
              ready: () => connector.tunnel !== undefined,
              draining: () =>
                connector.drained
                  ? drainedReason(connector.identity?.connectorId ?? '')
                  : undefined,
              metrics: connector.metrics.registry,
            })
          : undefined;
        try {
          await connector.start();
        } catch (err) {
          await probes?.close();
          throw err;
        }
        const outcome = await Promise.race([untilSignal(), halt]);
        await probes?.close();
        if (outcome instanceof Error) {
          await connector.stop({ drainTimeoutMs: 0 });
          throw outcome;
        }
        logger.info({ signal: outcome, active: connector.counters.active }, 'connector draining');
        await connector.stop({ drainTimeoutMs });
      },
    );
}

/** Discovery options from the flags, or undefined when discovery is off. */
async function kubernetesOptions(o: {
  kubernetesDiscovery: boolean;
  kubernetesNamespaces?: string;
  kubeconfig?: string;
}): Promise<Omit<KubernetesDiscoveryOptions, 'logger'> | undefined> {
  if (!o.kubernetesDiscovery) return undefined;
  const connection = o.kubeconfig
    ? await kubeconfigConnection(o.kubeconfig)
    : await inClusterConnection();
  const namespaces = (o.kubernetesNamespaces ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  return { connection, namespaces };
}
