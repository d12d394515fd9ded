import type { Command } from 'commander';
import { CoreErrors } from '../../core/index.js';
import type { EdgeOptions } from '../../edge/index.js';

const env = process.env;

/** Values of the edge's Konnectivity flags as commander parses them. */
export interface KonnectivityFlags {
  konnectivityUds?: string;
  konnectivityListen?: string;
  konnectivityClientCa?: string;
  konnectivityCert?: string;
  konnectivityKey?: string;
  konnectivityServerNames?: string;
  konnectivityGroup?: string;
  konnectivityMaxPendingDials?: string;
  proxyStrategies: string;
}

/** Adds the Konnectivity-compatible frontend's flags (each also read from the environment) to `postern edge`. */
export function addKonnectivityFlags(command: Command): Command {
  return command
    .option(
      '--konnectivity-uds <path>',
      'HTTP CONNECT frontend for kube-apiserver on this Unix socket, mode 0770 (env POSTERN_KONNECTIVITY_UDS)',
      env.POSTERN_KONNECTIVITY_UDS,
    )
    .option(
      '--konnectivity-listen <host:port>',
      'HTTP CONNECT frontend over TCP with mTLS (env POSTERN_KONNECTIVITY_LISTEN)',
      env.POSTERN_KONNECTIVITY_LISTEN,
    )
    .option(
      '--konnectivity-client-ca <file>',
      'CA bundle client certificates of --konnectivity-listen must chain to (env POSTERN_KONNECTIVITY_CLIENT_CA)',
      env.POSTERN_KONNECTIVITY_CLIENT_CA,
    )
    .option(
      '--konnectivity-cert <file>',
      'server certificate of --konnectivity-listen; default one issued by the edge CA (env POSTERN_KONNECTIVITY_CERT)',
      env.POSTERN_KONNECTIVITY_CERT,
    )
    .option(
      '--konnectivity-key <file>',
      'key of --konnectivity-cert (env POSTERN_KONNECTIVITY_KEY)',
      env.POSTERN_KONNECTIVITY_KEY,
    )
    .option(
      '--konnectivity-server-names <list>',
      'extra comma-separated DNS names/IPs for the issued server certificate (env POSTERN_KONNECTIVITY_SERVER_NAMES)',
      env.POSTERN_KONNECTIVITY_SERVER_NAMES,
    )
    .option(
      '--konnectivity-group <group>',
      'only connectors of this group serve the frontend; default all (env POSTERN_KONNECTIVITY_GROUP)',
      env.POSTERN_KONNECTIVITY_GROUP,
    )
    .option(
      '--konnectivity-max-pending-dials <n>',
      'CONNECTs waiting for their dial at once; more are answered 503 (env POSTERN_KONNECTIVITY_MAX_PENDING_DIALS; default 1000)',
      env.POSTERN_KONNECTIVITY_MAX_PENDING_DIALS,
    )
    .option(
      '--proxy-strategies <list>',
      'how the frontend picks a connector: ordered destHost,cidr,defaultRoute,default (env POSTERN_PROXY_STRATEGIES)',
      env.POSTERN_PROXY_STRATEGIES ?? 'default',
    );
}

/**
 * The edge's `konnectivity` option from the parsed options of a command that went through
 * {@link addKonnectivityFlags}; undefined when neither listener is asked for.
 */
export function konnectivityOptions(parsed: object): EdgeOptions['konnectivity'] {
  const o = parsed as KonnectivityFlags;
  if (o.konnectivityUds === undefined && o.konnectivityListen === undefined) return undefined;
  return {
    udsPath: o.konnectivityUds,
    listen: o.konnectivityListen,
    clientCaFile: o.konnectivityClientCa,
    certFile: o.konnectivityCert,
    keyFile: o.konnectivityKey,
    serverNames: (o.konnectivityServerNames ?? '')
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n !== ''),
    group: o.konnectivityGroup,
    strategies: o.proxyStrategies,
    maxPendingDials: maxPendingDials(o.konnectivityMaxPendingDials),
  };
}

function maxPendingDials(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) {
    throw CoreErrors.invalidArgument(
      '--konnectivity-max-pending-dials',
      `"${value}" is not a whole number from 1 to 1000000`,
    );
  }
  return n;
}
