import type { Logger } from 'pino';
import type { Clock } from '../core/index.js';
import type { AuditRecord, Store } from '../store/index.js';
import type { AccessDecisionEntry, AdminRoleMapping } from '../control/index.js';
import type { AccessListenOptions } from './access-frontend.js';
import type { KonnectivityOptions } from './konnectivity/index.js';

/** How an edge starts; every field has a default suitable for a single-host install. */
export interface EdgeOptions {
  /** Default ./postern-data. */
  readonly dataDir: string;
  /** Opens the store; the CLI passes the embedded store for the data dir. */
  readonly openStore: () => Promise<Store>;
  /** Default 0.0.0.0:8443. */
  readonly tunnelListen?: string;
  /** Address provisioning keys carry; default the tunnel address, or the host name when it listens on all addresses. */
  readonly advertiseAddress?: string | undefined;
  /** Default 127.0.0.1:9090. */
  readonly adminListen?: string;
  readonly configDir?: string | undefined;
  /** Release shown by the admin API's OpenAPI document. */
  readonly version?: string | undefined;
  /** The built web console served at /console/; default the installed package's dist/console. */
  readonly consoleDir?: string | undefined;
  readonly adminToken?: string | undefined;
  /** Called with each admin API audit record once stored (e.g. to stream it). */
  readonly onAudit?: ((record: AuditRecord) => void) | undefined;
  /** Refuse admin API PUT, PATCH and DELETE without If-Match (428). Default false. */
  readonly adminRequireIfMatch?: boolean | undefined;
  /** Time between connector auto-delete sweeps; default one hour. */
  readonly autoDeleteIntervalMs?: number | undefined;
  /** This edge's id in the HA set; default a random one (see randomServerId). */
  readonly serverId?: string;
  /** HA lease lifetime: a crashed edge leaves the set after this long; default 15 s. */
  readonly leaseTtlMs?: number | undefined;
  /** Fallback check for configuration changed through other edges; default 5 s. */
  readonly configPollMs?: number | undefined;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly certificateValidityMs?: number;
  /**
   * How long after its certificate expired an offline connector may renew it with proof of its
   * key instead of enrolling again; default 30 days.
   */
  readonly expiredRenewalGraceMs?: number;
  readonly keepAliveIntervalMs?: number;
  readonly keepAliveTimeoutMs?: number;
  /** Bound on a tunnel's TLS handshake, control stream and hello; default 10 s. */
  readonly tunnelHandshakeTimeoutMs?: number;
  /** Konnectivity-compatible HTTP CONNECT frontend (UDS and/or mTLS TCP); default off. */
  readonly konnectivity?: KonnectivityOptions | undefined;
  /** Period of connector_metrics log records; default 300000 (5 min); 0 = none. */
  readonly logMetricsIntervalMs?: number | undefined;
  /** The access proxy for `postern tcp` and HTTPS-proxy clients (CONNECT over TLS); default off. */
  readonly access?: AccessListenOptions | undefined;
  /** `iss` of the user tokens this edge signs and accepts; default DEFAULT_TOKEN_ISSUER. */
  readonly tokenIssuer?: string | undefined;
  /** `--token-signing-key`: the user-token signing key file (HA: the same on every edge); default `<data-dir>/token-signing-key.pem`. */
  readonly tokenSigningKey?: string | undefined;
  /** `--cli-identity-provider`: the provider `postern login` uses; default the only one, else the user picks. */
  readonly cliIdentityProvider?: string | undefined;
  /** How long a `postern login --device` waits for the user's approval; default 600000 (10 min). */
  readonly deviceLoginTtlMs?: number | undefined;
  /** `--device-login on|off`: whether `postern login --device` is offered; default true (on). */
  readonly deviceLogin?: boolean | undefined;
  /** `--cli-token-ttl`: lifetime of the token `postern login` (and `--device`) gets; default 8 h. */
  readonly cliTokenTtlMs?: number | undefined;
  /**
   * `--admin-identity-provider` and `--admin-role-groups`: administrators sign in to the console
   * with this identity provider and get the mapped role; default admin tokens only.
   */
  readonly adminSignIn?:
    | {
        readonly identityProvider: string;
        readonly roles: AdminRoleMapping;
        /** Lifetime of the admin-API token; default 1 h. */
        readonly tokenTtlMs?: number | undefined;
      }
    | undefined;
  /** Every browser access decision (for the user activity log). */
  readonly onAccessDecision?: ((entry: AccessDecisionEntry) => void) | undefined;
  /** Records kept in memory by the user activity log; default 10,000. */
  readonly activityCapacity?: number | undefined;
  /** Newest user activity records the shared store keeps (all edges); default 100,000. */
  readonly activityRetentionEntries?: number | undefined;
  /** Days the shared store keeps user activity records; default 30. */
  readonly activityRetentionDays?: number | undefined;
  /**
   * On close, how long the edge keeps serving after GET /readyz turns 503, so that load balancers
   * and Kubernetes endpoints stop sending new clients before it stops accepting; default 0.
   */
  readonly shutdownGraceMs?: number | undefined;
  /** Then how long requests and sessions in flight may take to finish; default 10 s. */
  readonly drainTimeoutMs?: number | undefined;
  /**
   * `--reload-drain-timeout`: how long sessions of a virtual server that a reload removed, disabled
   * or moved to another address may finish before they are cut; default 30 s.
   */
  readonly reloadDrainTimeoutMs?: number | undefined;
}
