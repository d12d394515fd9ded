import type { Logger } from 'pino';
import type {
  Certificate,
  Configuration,
  Rule,
  VirtualServer as VirtualServerConfig,
} from '../config/index.js';
import {
  HttpVirtualServer,
  TcpVirtualServer,
  TlsPassthroughVirtualServer,
  splitHostPort,
  type AccessGate,
  type Dialer,
  type HttpRequestRecord,
  type HttpVirtualServerOptions,
  type Pool,
  type TcpSessionRecord,
  type TcpVirtualServerOptions,
  type TlsPassthroughOptions,
  type TlsSessionRecord,
} from '../traffic/index.js';

/** Where a virtual server's sessions and requests are reported. */
export interface SessionHooks {
  readonly onTcpSession: (record: TcpSessionRecord) => void;
  readonly onTlsSession: (record: TlsSessionRecord) => void;
  readonly onHttpRequest: (record: HttpRequestRecord) => void;
}

/** What building one generation's virtual servers needs. */
export interface BuildContext {
  readonly config: Configuration;
  readonly pools: ReadonlyMap<string, Pool>;
  readonly dialer: Dialer;
  readonly logger: Logger;
  readonly hooks: SessionHooks;
  /** The access gate of an http/https virtual server in this generation, if any. */
  readonly gateFor?:
    ((vs: VirtualServerConfig, config: Configuration) => AccessGate | undefined) | undefined;
}

type Built =
  | { readonly kind: 'tcp'; readonly options: TcpVirtualServerOptions }
  | { readonly kind: 'tls'; readonly options: TlsPassthroughOptions }
  | { readonly kind: 'http'; readonly options: HttpVirtualServerOptions };

type Server = TcpVirtualServer | TlsPassthroughVirtualServer | HttpVirtualServer;

interface Running {
  readonly key: string;
  readonly server: Server;
}

/**
 * The running virtual servers of an edge. Applying a generation keeps every listener whose
 * protocol and address are unchanged (re-binding nothing; new sessions get the new pools and
 * rules, those in flight keep theirs), closes removed or moved ones with a bounded drain, and
 * starts new ones. A start that fails rolls the new ones back and leaves the rest as they were.
 */
export class VirtualServerSet {
  readonly #running = new Map<string, Running>();
  readonly #drainMs: number;

  constructor(options: { drainTimeoutMs?: number } = {}) {
    this.#drainMs = options.drainTimeoutMs ?? 30_000;
  }

  /** Bound addresses by name. */
  listeners(): { name: string; host: string; port: number }[] {
    return [...this.#running.entries()].map(([name, r]) => ({ name, ...r.server.address() }));
  }

  /** Builds every enabled virtual server's options; throws before anything changes on bad input. */
  build(context: BuildContext): Map<string, Built> {
    const out = new Map<string, Built>();
    for (const vs of context.config.virtual_servers as readonly VirtualServerConfig[]) {
      if (vs.enabled) out.set(vs.name, buildOne(vs, context));
    }
    return out;
  }

  /** Switches to the built set (see the class comment). */
  async apply(built: ReadonlyMap<string, Built>): Promise<void> {
    const moved: Running[] = [];
    for (const [name, running] of this.#running) {
      const next = built.get(name);
      if (!next || keyOf(name, next) !== running.key) moved.push(running);
    }
    // Removed or moved servers stop listening at once (closing a listener releases its address
    // synchronously, so a server taking it over can bind), and their sessions drain in the
    // background, bounded by the drain timeout.
    for (const r of moved) {
      this.#running.delete(nameOf(r));
      void r.server.close({ drainTimeoutMs: this.#drainMs }).catch(() => undefined);
    }
    const started: string[] = [];
    try {
      for (const [name, next] of built) {
        const current = this.#running.get(name);
        if (current) {
          reconfigure(current.server, next);
          continue;
        }
        const server = create(next);
        await server.start();
        this.#running.set(name, { key: keyOf(name, next), server });
        started.push(name);
      }
    } catch (err) {
      for (const name of started) {
        void this.#running.get(name)?.server.close({ drainTimeoutMs: 0 });
        this.#running.delete(name);
      }
      throw err;
    }
  }

  /** Stops every server, letting sessions drain for `drainTimeoutMs`. */
  async close(drainTimeoutMs = this.#drainMs): Promise<void> {
    const all = [...this.#running.values()];
    this.#running.clear();
    await Promise.all(all.map((r) => r.server.close({ drainTimeoutMs })));
  }
}

function nameOf(r: Running): string {
  return r.key.slice(0, r.key.indexOf('\0'));
}

function keyOf(name: string, built: Built): string {
  const { host, port } = built.options.listen;
  const protocol = built.kind === 'http' ? built.options.protocol : built.kind;
  return `${name}\0${protocol}\0${host}:${port}`;
}

function create(built: Built): Server {
  switch (built.kind) {
    case 'tcp':
      return new TcpVirtualServer(built.options);
    case 'tls':
      return new TlsPassthroughVirtualServer(built.options);
    case 'http':
      return new HttpVirtualServer(built.options);
  }
}

function reconfigure(server: Server, built: Built): void {
  if (server instanceof TcpVirtualServer && built.kind === 'tcp') server.reconfigure(built.options);
  else if (server instanceof TlsPassthroughVirtualServer && built.kind === 'tls')
    server.reconfigure(built.options);
  else if (server instanceof HttpVirtualServer && built.kind === 'http')
    server.reconfigure(built.options);
}

function buildOne(vs: VirtualServerConfig, context: BuildContext): Built {
  const pool = context.pools.get(vs.pool)!;
  const listen = splitHostPort(vs.listen, { allowZero: true })!;
  const common = {
    name: vs.name,
    listen,
    pool,
    dialer: context.dialer,
    connectTimeoutMs: vs.connect_timeout_ms,
    idleTimeoutMs: vs.idle_timeout_ms,
  };
  const routePools = vs.routes.map((r, i) => ({
    ...r,
    pool: context.pools.get(r.pool)!,
    name: `route-${i}`,
  }));
  switch (vs.protocol) {
    case 'tcp':
      return {
        kind: 'tcp',
        options: { ...common, retries: vs.retries, onSessionEnd: context.hooks.onTcpSession },
      };
    case 'tls':
      return {
        kind: 'tls',
        options: {
          ...common,
          routes: routePools.map((r) => ({ host: r.host ?? '*', pool: r.pool, name: r.name })),
          retries: vs.retries,
          logger: context.logger,
          onSessionEnd: context.hooks.onTlsSession,
        },
      };
    case 'http':
    case 'https':
      return { kind: 'http', options: httpOptions(vs, context, common, routePools) };
  }
}

function httpOptions(
  vs: VirtualServerConfig,
  context: BuildContext,
  common: Omit<HttpVirtualServerOptions, 'protocol'>,
  routes: {
    host?: string | undefined;
    path_prefix?: string | undefined;
    pool: Pool;
    name: string;
  }[],
): HttpVirtualServerOptions {
  const certificates = new Map(
    (context.config.certificates as readonly Certificate[]).map((c) => [c.name, c]),
  );
  const rules = new Map((context.config.rules as readonly Rule[]).map((r) => [r.name, r]));
  const tls = vs.tls;
  return {
    ...common,
    protocol: vs.protocol === 'https' ? 'https' : 'http',
    routes: routes.map((r) => ({
      pool: r.pool,
      name: r.name,
      ...(r.host === undefined ? {} : { host: r.host }),
      ...(r.path_prefix === undefined ? {} : { pathPrefix: r.path_prefix }),
    })),
    rules: vs.rules.map((name) => rules.get(name)!),
    ...(tls === undefined
      ? {}
      : {
          tls: {
            certificates: tls.certificates.map((name) => {
              const c = certificates.get(name)!;
              return { name: c.name, cert: c.cert, key: c.key };
            }),
            minVersion: tls.min_version,
            alpn: tls.alpn,
          },
        }),
    limits: { maxHeaderBytes: vs.limits.max_header_bytes, maxHeaders: vs.limits.max_headers },
    keepaliveTimeoutMs: vs.keepalive_timeout_ms,
    requestTimeoutMs: vs.request_timeout_ms,
    forwardedHeaders: vs.forwarded_headers,
    retries: vs.retries,
    logger: context.logger,
    onRequestEnd: context.hooks.onHttpRequest,
    gate: context.gateFor?.(vs, context.config),
  };
}
