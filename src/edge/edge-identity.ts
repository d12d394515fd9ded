import type { Logger } from 'pino';
import {
  AdminSignIn,
  BrowserAccess,
  SqlSessionStore,
  type AccessDecisionEntry,
  type ActivityLog,
  type AdminRoleMapping,
  type UserTokenAuthority,
} from '../control/index.js';
import type { Clock } from '../core/index.js';
import type { Store } from '../store/index.js';
import { browserDecisionActivity } from './activity-streaming.js';
import { loadTokenAuthority } from './edge-files.js';

/** The edge options user identity reads (see EdgeOptions for each field). */
export interface IdentityOptions {
  readonly dataDir: string;
  readonly serverId?: string;
  readonly tokenIssuer?: string | undefined;
  readonly tokenSigningKey?: string | undefined;
  readonly cliIdentityProvider?: string | undefined;
  readonly deviceLoginTtlMs?: number | undefined;
  readonly deviceLogin?: boolean | undefined;
  readonly cliTokenTtlMs?: number | undefined;
  readonly onAccessDecision?: ((entry: AccessDecisionEntry) => void) | undefined;
  readonly adminSignIn?:
    | {
        readonly identityProvider: string;
        readonly roles: AdminRoleMapping;
        readonly tokenTtlMs?: number | undefined;
      }
    | undefined;
}

/** Who users are: the user-token authority, browser sessions and console sign-in. */
export interface EdgeIdentity {
  readonly tokenAuthority: UserTokenAuthority;
  readonly browserAccess: BrowserAccess;
  /** Console sign-in with the identity provider, when `adminSignIn` was given. */
  readonly adminSignIn: AdminSignIn | undefined;
  close(): void;
}

/** Loads the token signing key and starts browser access over sessions kept in the store. */
export async function startEdgeIdentity(
  options: IdentityOptions,
  parts: { store: Store; activity: ActivityLog; log: Logger; clock: Clock },
): Promise<EdgeIdentity> {
  const { store, activity, log, clock } = parts;
  const tokenAuthority = await loadTokenAuthority(options.dataDir, {
    issuer: options.tokenIssuer,
    clock,
    keyFile: options.tokenSigningKey,
  });
  // Sessions live in the store: every edge of an HA set accepts them, a logout ends them on all.
  const sessions = new SqlSessionStore(store, {
    clock,
    origin: options.serverId,
    logger: log.child({ component: 'sessions' }),
  });
  const browserAccess = new BrowserAccess({
    authority: tokenAuthority,
    store: sessions,
    clock,
    logger: log.child({ component: 'browser-access' }),
    cliIdentityProvider: options.cliIdentityProvider,
    // Device logins live in the store: the CLI may poll one edge while the user approves on another.
    // Without the store's device tables the auth pages answer 404 on the device paths.
    devices: options.deviceLogin === false ? undefined : store,
    deviceLoginTtlMs: options.deviceLoginTtlMs,
    cliTokenTtlMs: options.cliTokenTtlMs,
    onDecision: (entry) => {
      activity.record(browserDecisionActivity(entry));
      options.onAccessDecision?.(entry);
    },
  });
  const adminSignIn =
    options.adminSignIn &&
    new AdminSignIn({
      ...options.adminSignIn,
      pages: browserAccess.pages,
      authority: tokenAuthority,
      logger: log.child({ component: 'admin-sign-in' }),
    });
  return {
    tokenAuthority,
    browserAccess,
    adminSignIn,
    close: () => {
      browserAccess.close();
      sessions.close();
    },
  };
}
