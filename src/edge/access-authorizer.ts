import net from 'node:net';
import type { CollectionObject, Configuration } from '../config/index.js';
import {
  ApplicationMatcher,
  CLI_AUDIENCE,
  PolicyEngine,
  identityErrors,
  type AccessDecision,
  type UserIdentity,
  type UserTokenAuthority,
} from '../control/index.js';
import { isPosternError, type PosternError } from '../core/index.js';
import { splitHostPort } from '../traffic/index.js';
import { edgeErrors } from './errors.js';

type Application = CollectionObject<'applications'>;

/** What the access proxy was asked, before anything was checked. */
export interface AccessAsk {
  /** The CONNECT request target, `host:port`. */
  readonly target: string;
  /** The `Proxy-Authorization` header as received. */
  readonly authorization: string | undefined;
  readonly sourceIp: string;
}

/** The outcome of checking an ask: allowed with everything needed to dial, or refused with a status. */
export type AccessVerdict =
  | {
      readonly ok: true;
      readonly host: string;
      readonly port: number;
      readonly identity: UserIdentity;
      readonly application: Application;
      readonly decision: AccessDecision;
      /** When the token's `exp` ends the session (ms since the epoch); undefined if it has none. */
      readonly expiresAt: number | undefined;
      /** The token's `iat` (ms since the epoch): a revocation of the user after it ends the session. */
      readonly issuedAt: number;
    }
  | {
      readonly ok: false;
      /** 400 bad target, 407 no valid token, 403 no application or denied by policy. */
      readonly status: 400 | 403 | 407;
      readonly error: PosternError;
      readonly identity?: UserIdentity | undefined;
      readonly application?: string | undefined;
      readonly decision?: AccessDecision | undefined;
    };

interface Compiled {
  readonly matcher: ApplicationMatcher;
  readonly engine: PolicyEngine;
}

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?$/;

/** The `host:port` of a CONNECT target, or undefined when it is not one. */
export function parseConnectTarget(target: string): { host: string; port: number } | undefined {
  const hp = splitHostPort(target);
  if (hp === undefined) return undefined;
  if (net.isIP(hp.host) === 0 && !HOST_NAME.test(hp.host)) return undefined;
  return hp;
}

/** The token of a `Bearer` credential (scheme without case), or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i.exec(header ?? '');
  return match?.[1];
}

/** Admins' per-user revocations: whether `user`'s credentials issued at `issuedAt` (ms) are revoked. */
export interface RevocationCheck {
  revokedSince(
    user: { readonly idp: string; readonly subject: string },
    issuedAt: number,
  ): Promise<boolean>;
}

/**
 * Decides CONNECT requests of the access proxy: the token (audience `postern:cli`) names the
 * user, the destination picks the most specific application, and the access policy decides for
 * client type `tcp_client`. Tables are compiled once per configuration generation.
 */
export class AccessAuthorizer {
  readonly #tokens: UserTokenAuthority;
  readonly #config: () => Configuration;
  readonly #compiled = new WeakMap<Configuration, Compiled>();
  /** Per-user revocations; without them no token is revoked. */
  readonly revocations: RevocationCheck | undefined;

  constructor(options: {
    readonly tokens: UserTokenAuthority;
    /** The configuration in force, read at each request. */
    readonly config: () => Configuration;
    /** Refuses tokens issued before an admin revoked their user; default none. */
    readonly revocations?: RevocationCheck | undefined;
  }) {
    this.#tokens = options.tokens;
    this.#config = options.config;
    this.revocations = options.revocations;
  }

  /** The configuration in force now; each change is a new object. */
  get configuration(): Configuration {
    return this.#config();
  }

  /** Checks one CONNECT request; never throws for a refusal, only for bugs. */
  async authorize(ask: AccessAsk): Promise<AccessVerdict> {
    const target = parseConnectTarget(ask.target);
    if (target === undefined) {
      return { ok: false, status: 400, error: edgeErrors.accessBadTarget(ask.target) };
    }
    let identity: UserIdentity;
    let expiresAt: number | undefined;
    let issuedAt: number;
    try {
      const verified = await this.#tokens.verify(bearerToken(ask.authorization) ?? '', {
        audience: CLI_AUDIENCE,
      });
      identity = verified.identity;
      // Postern always signs `exp`; a token without one (signed elsewhere with the key) never ends.
      expiresAt = typeof verified.claims.exp === 'number' ? verified.expiresAt : undefined;
      issuedAt = verified.issuedAt;
      await this.#checkRevoked(identity, issuedAt);
    } catch (err) {
      if (isPosternError(err)) return { ok: false, status: 407, error: err };
      throw err;
    }
    return this.#decide(ask, { ...target, identity, expiresAt, issuedAt });
  }

  /** Throws POSTERN_ERR_TOKEN_INVALID when an admin revoked the user after the token was issued. */
  async #checkRevoked(identity: UserIdentity, issuedAt: number): Promise<void> {
    if (!(await this.revocations?.revokedSince(identity, issuedAt))) return;
    throw identityErrors.tokenInvalid(
      "it was issued before an administrator revoked the user's access",
    );
  }

  /**
   * Decides again, under the configuration in force now, for a session `identity` opened: the
   * same application match and access policy as a new CONNECT gets. The token is not verified
   * again (its expiry ends the session on its own), so a revoked access is seen at once.
   */
  reauthorize(ask: AccessAsk, identity: UserIdentity): AccessVerdict {
    const target = parseConnectTarget(ask.target);
    if (target === undefined) {
      return { ok: false, status: 400, error: edgeErrors.accessBadTarget(ask.target), identity };
    }
    return this.#decide(ask, { ...target, identity, expiresAt: undefined, issuedAt: 0 });
  }

  #decide(
    ask: AccessAsk,
    who: {
      readonly host: string;
      readonly port: number;
      readonly identity: UserIdentity;
      readonly expiresAt: number | undefined;
      readonly issuedAt: number;
    },
  ): AccessVerdict {
    const { identity } = who;
    const { matcher, engine } = this.#tables();
    const application = matcher.match(who.host, who.port);
    if (application === undefined) {
      const error = edgeErrors.accessNoApplication(ask.target);
      return { ok: false, status: 403, error, identity };
    }
    const decision = engine.decide({
      user: identity,
      clientType: 'tcp_client',
      sourceIp: ask.sourceIp,
      application: application.name,
    });
    if (decision.action !== 'allow') {
      const error = edgeErrors.accessDenied(
        `${decision.reason} (application "${application.name}")`,
      );
      return { ok: false, status: 403, error, identity, application: application.name, decision };
    }
    return { ok: true, ...who, application, decision };
  }

  #tables(): Compiled {
    const config = this.#config();
    let compiled = this.#compiled.get(config);
    if (compiled === undefined) {
      compiled = {
        matcher: new ApplicationMatcher(config.applications ?? []),
        engine: new PolicyEngine(config.access_policies ?? []),
      };
      this.#compiled.set(config, compiled);
    }
    return compiled;
  }
}
