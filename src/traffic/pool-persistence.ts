import type { Clock } from '../core/index.js';
import { setCookieHeader, SourceIpTable, tokenFromCookie } from './persistence/index.js';
import type { PoolEntry, PoolRuntime } from './pool-node.js';
import type { PersistenceOptions, PoolPickOptions } from './pool-options.js';
import type { PoolView } from './pool-view.js';
import { priorityOf } from './priority-groups.js';

/**
 * A pool generation's session persistence: finds the node a client is pinned to and pins it
 * after a fresh pick. The source-IP table lives in the shared runtime, so it survives reloads;
 * cookie tokens are derived from pool name and address, so they need no table at all.
 */
export class PoolPersistence {
  readonly options: PersistenceOptions | undefined;
  readonly #rt: PoolRuntime;

  /** Creates or reconfigures the shared source-IP table when `options` asks for one. */
  constructor(options: PersistenceOptions | undefined, rt: PoolRuntime, clock: Clock) {
    this.options = options;
    this.#rt = rt;
    if (options?.type !== 'source_ip') return;
    const limits = {
      ttlMs: options.ttlMs,
      ...(options.maxEntries === undefined ? {} : { maxEntries: options.maxEntries }),
    };
    if (rt.sourceIp) rt.sourceIp.configure(limits);
    else rt.sourceIp = new SourceIpTable({ ...limits, clock });
  }

  /** Cookie persistence is on. */
  get cookie(): boolean {
    return this.options?.type === 'cookie';
  }

  /** The secret keying cookie tokens, when cookie persistence is on and has one. */
  get cookieKey(): Uint8Array | undefined {
    return this.options?.type === 'cookie' ? this.options.key : undefined;
  }

  /** Called when the generation takes charge: drops a source-IP table it does not use. */
  takeCharge(): void {
    if (this.options?.type !== 'source_ip') this.#rt.sourceIp = undefined;
  }

  /** The node the request is pinned to, when that node may still take it. */
  pinned(options: PoolPickOptions | undefined, view: PoolView): PoolEntry | undefined {
    const p = this.options;
    if (options === undefined || p === undefined) return undefined;
    let entry: PoolEntry | undefined;
    if (p.type === 'cookie') {
      const token =
        options.cookie === undefined ? undefined : tokenFromCookie(p.cookieName, options.cookie);
      entry = token === undefined ? undefined : view.byToken.get(token);
    } else {
      const ip = options.clientIp;
      const address = ip === undefined ? undefined : this.#rt.sourceIp?.get(ip);
      entry = address === undefined ? undefined : view.byAddress.get(address);
    }
    // Configured draining nodes keep their persistent sessions (as HAProxy and vTM do);
    // removed, disabled and down nodes do not.
    if (entry === undefined || entry.meta.removed || entry.state === 'disabled') return undefined;
    if (entry.health === 'down' || options.exclude?.has(entry.address)) return undefined;
    // Priority lists: a node of a group not in use takes no new requests, pinned or not.
    const floor = view.priorityFloor;
    if (floor !== undefined && priorityOf(entry) < floor) return undefined;
    return entry;
  }

  /** Pins the client to a freshly picked node; returns the Set-Cookie value to send, if any. */
  pin(node: PoolEntry, options: PoolPickOptions | undefined): string | undefined {
    const p = this.options;
    if (p === undefined || options === undefined) {
      return p?.type === 'cookie' ? setCookieHeader(p, node.meta.token!) : undefined;
    }
    if (p.type === 'source_ip') {
      if (options.clientIp !== undefined) this.#rt.sourceIp?.set(options.clientIp, node.address);
      return undefined;
    }
    const sent =
      options.cookie === undefined ? undefined : tokenFromCookie(p.cookieName, options.cookie);
    return sent === node.meta.token
      ? undefined
      : setCookieHeader(p, node.meta.token!, options.secure === true);
  }
}
