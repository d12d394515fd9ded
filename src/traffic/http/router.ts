import { compileHostPattern, pathHasPrefix, type HostMatcher } from './host-pattern.js';
import { pathForRules, prefixForRules } from './normalized-path.js';

/** One route: requests whose host and path match go to `pool`; absent fields match anything. */
export interface Route<P> {
  /** Exact host, `*.suffix` or `*`. */
  readonly host?: string;
  /**
   * Path prefix, matched on segment boundaries against the normalized path (decoded, dot
   * segments resolved, slashes merged; see normalized-path.ts), http and https only.
   */
  readonly pathPrefix?: string;
  readonly pool: P;
  /** Label for logs and metrics; default `route-<index>`. */
  readonly name?: string;
}

/** The pool chosen for a request and the route that chose it. */
export interface RouteMatch<P> {
  readonly pool: P;
  /** Route name, or `default` when no route matched. */
  readonly route: string;
}

interface CompiledRoute<P> {
  readonly host: HostMatcher | undefined;
  readonly pathPrefix: string | undefined;
  readonly match: RouteMatch<P>;
}

/** Routes requests by host and path prefix; the first matching route wins, else the default pool. */
export class Router<P> {
  readonly #routes: CompiledRoute<P>[];
  readonly #fallback: RouteMatch<P>;

  constructor(defaultPool: P, routes: readonly Route<P>[] = []) {
    this.#fallback = { pool: defaultPool, route: 'default' };
    this.#routes = routes.map((r, i) => ({
      host: r.host === undefined ? undefined : compileHostPattern(r.host),
      pathPrefix: r.pathPrefix === undefined ? undefined : prefixForRules(r.pathPrefix),
      match: { pool: r.pool, route: r.name ?? `route-${i}` },
    }));
  }

  /** Picks the route for a normalized host and a request target (normalized here). */
  match(host: string, target: string): RouteMatch<P> {
    let path: string | undefined;
    for (const r of this.#routes) {
      if (r.host !== undefined && !r.host(host)) continue;
      if (
        r.pathPrefix !== undefined &&
        !pathHasPrefix((path ??= pathForRules(target)), r.pathPrefix)
      )
        continue;
      return r.match;
    }
    return this.#fallback;
  }
}
