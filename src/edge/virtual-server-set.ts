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
  type RequestEnd,
  type HttpVirtualServerOptions,
  type ConnectionRefusal,
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
  readonly onHttpRequest: (end: RequestEnd) => void;
  /** A client connection closed unserved because its virtual server was at max_connections. */
  readonly onConnectionRefused?: (refusal: ConnectionRefusal) => void;
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

export type Built =
  | { readonly kind: 'tcp'; readonly options: TcpVirtualServerOptions }
  | { readonly kind: 'tls'; readonly options: TlsPassthroughOptions }
  | { readonly kind: 'http'; readonly options: HttpVirtualServerOptions };

type Server = TcpVirtualServer | TlsPassthroughVirtualServer | HttpVirtualServer;

interface Running {
  readonly key: string;
  /** What the server runs now, so that a failed apply can put it back. */
  readonly built: Built;
  readonly server: Server;
}

/** What one apply does to each server. */
interface Plan {
  /** Same name, protocol and address: reconfigured in place. */
  readonly kept: { readonly running: Running; readonly next: Built }[];
  /** Removed, or moved to another protocol or address: closed with a drain. */
  readonly outgoing: Running[];
  /** New, or the new listener of a moved server: created and bound. */
  readonly incoming: Running[];
}

/**
 * The running virtual servers of an edge. Applying a generation keeps every listener whose
 * protocol and address are unchanged (re-binding nothing; new sessions get the new pools and
 * rules, those in flight keep theirs), starts new ones, and closes removed or moved ones with a
 * bounded drain. Every new listener is bound before anything running changes, so a failed apply
 * changes nothing: the listeners it bound are closed and the running servers keep their
 * generation. One exception: a new listener on a port an outgoing server holds (a server changing
 * protocol in place, two servers swapping ports) can only bind once that server stops listening;
 * those are bound last, and when the apply then fails the stopped servers are started again on
 * their old address (their sessions in flight still drain, bounded by the drain timeout).
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

  /** Switches to the built set, or throws having changed nothing (see the class comment). */
  async apply(built: ReadonlyMap<string, Built>): Promise<void> {
    const plan = this.#plan(built);
    const stopped: Running[] = [];
    const reconfigured: Running[] = [];
    try {
      await this.#bind(plan, stopped);
      for (const { running, next } of plan.kept) {
        reconfigure(running.server, next);
        reconfigured.push(running);
      }
    } catch (err) {
      // The old options are what these servers ran a moment ago, so putting them back works.
      for (const r of reconfigured) reconfigure(r.server, r.built);
      discard(plan.incoming);
      await this.#restart(stopped);
      throw err;
    }
    this.#commit(plan, stopped);
  }

  /** Stops every server, letting sessions drain for `drainTimeoutMs`. */
  async close(drainTimeoutMs = this.#drainMs): Promise<void> {
    const all = [...this.#running.values()];
    this.#running.clear();
    await Promise.all(all.map((r) => r.server.close({ drainTimeoutMs })));
  }

  #plan(built: ReadonlyMap<string, Built>): Plan {
    const plan: Plan = { kept: [], outgoing: [], incoming: [] };
    for (const [name, running] of this.#running) {
      const next = built.get(name);
      if (next && keyOf(name, next) === running.key) plan.kept.push({ running, next });
      else plan.outgoing.push(running);
    }
    try {
      for (const [name, next] of built) {
        const key = keyOf(name, next);
        // Creating binds nothing; constructors that refuse bad options throw here.
        if (this.#running.get(name)?.key !== key)
          plan.incoming.push({ key, built: next, server: create(next) });
      }
    } catch (err) {
      discard(plan.incoming);
      throw err;
    }
    return plan;
  }

  /**
   * Binds every incoming listener: first those on ports no outgoing server holds, then the rest,
   * each once the outgoing servers on its port stopped listening (recorded in `stopped`).
   * Closing a listener releases its address synchronously; sessions drain in the background.
   */
  async #bind(plan: Plan, stopped: Running[]): Promise<void> {
    // Read up front: a stopped server has no address any more.
    const held = plan.outgoing.map((o) => ({ o, port: o.server.address().port }));
    const holders = (r: Running): Running[] => {
      const port = r.built.options.listen.port;
      return held.filter((h) => port !== 0 && h.port === port).map((h) => h.o);
    };
    const later: Running[] = [];
    for (const r of plan.incoming) {
      if (holders(r).length > 0) later.push(r);
      else await start(r);
    }
    for (const r of later) {
      for (const o of holders(r).filter((h) => !stopped.includes(h))) {
        stopped.push(o);
        void o.server.close({ drainTimeoutMs: this.#drainMs }).catch(() => undefined);
      }
      await start(r);
    }
  }

  /** Starts servers stopped by a failed apply again on their old address, as new listeners. */
  async #restart(stopped: readonly Running[]): Promise<void> {
    for (const old of stopped) {
      const name = nameOf(old);
      const server = create(old.built);
      try {
        await server.start();
        this.#running.set(name, { ...old, server });
      } catch {
        // Someone else took the address in between: the server is gone, and listeners() says so.
        this.#running.delete(name);
      }
    }
  }

  #commit(plan: Plan, stopped: readonly Running[]): void {
    for (const r of plan.outgoing) {
      this.#running.delete(nameOf(r));
      if (!stopped.includes(r))
        void r.server.close({ drainTimeoutMs: this.#drainMs }).catch(() => undefined);
    }
    for (const { running, next } of plan.kept) {
      this.#running.set(nameOf(running), { ...running, built: next });
    }
    for (const r of plan.incoming) this.#running.set(nameOf(r), r);
  }
}

/** The virtual server each failed apply's error came from, by the error. */
const failedServers = new WeakMap<object, string>();

/** Which virtual server could not bind, when `err` is the error of a failed apply. */
export function failedVirtualServer(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? failedServers.get(err) : undefined;
}

async function start(r: Running): Promise<void> {
  try {
    await r.server.start();
  } catch (err) {
    if (typeof err === 'object' && err !== null) failedServers.set(err, nameOf(r));
    throw err;
  }
}

/** Closes servers an apply created but will not keep; they carry no sessions. */
function discard(servers: readonly Running[]): void {
  for (const r of servers) void r.server.close({ drainTimeoutMs: 0 }).catch(() => undefined);
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
    maxConnections: vs.max_connections,
    ...(context.hooks.onConnectionRefused === undefined
      ? {}
      : { onConnectionRefused: context.hooks.onConnectionRefused }),
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
        options: {
          ...common,
          retries: vs.retries,
          proxyProtocol: vs.proxy_protocol,
          onSessionEnd: context.hooks.onTcpSession,
        },
      };
    case 'tls':
      return {
        kind: 'tls',
        options: {
          ...common,
          routes: routePools.map((r) => ({ host: r.host ?? '*', pool: r.pool, name: r.name })),
          retries: vs.retries,
          proxyProtocol: vs.proxy_protocol,
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
    xForwardedFor: vs.x_forwarded_for,
    retries: vs.retries,
    errorDetail: vs.error_detail,
    errorPages: new Map(
      Object.entries(vs.error_pages ?? {}).map(([status, page]) => [
        Number(status),
        { body: page.body, contentType: page.content_type },
      ]),
    ),
    logger: context.logger,
    onRequestEnd: context.hooks.onHttpRequest,
    gate: context.gateFor?.(vs, context.config),
  };
}
