import type { Configuration } from '../config/index.js';
import { isPosternError } from '../core/index.js';

/** Why a virtual server of the configuration is not listening, as the admin API shows it. */
export interface NotListening {
  readonly code: string;
  readonly message: string;
  /** When it was first found unable to bind, in ms since the epoch. */
  readonly since: number;
}

interface Parked extends NotListening {
  /** The server's definition when it was parked; a changed one is no longer parked. */
  readonly spec: string;
}

/**
 * Virtual servers created through the admin API that could not bind their address, kept out of
 * the running set until they can. Only API objects are parked, and only when the edge starts or
 * when they were parked already and have not changed since: a document's server that cannot
 * bind stops the start (its file can be fixed), but an API object can only be fixed through the
 * API, which therefore has to be up. A parked server is tried again on every reload; a changed
 * one must bind, or the change is refused like any other.
 */
export class ParkedServers {
  #parked = new Map<string, Parked>();

  /** Why `name` is not listening, when it is parked. */
  get(name: string): NotListening | undefined {
    return this.#parked.get(name);
  }

  /**
   * A round of parking for one reload: which failures it may tolerate, and what it parked.
   * Nothing changes here until `commit`, so a refused reload leaves the parked set as it was.
   */
  round(options: {
    readonly config: Configuration;
    readonly owners: ReadonlyMap<string, string>;
    readonly starting: boolean;
    readonly now: number;
  }): ParkingRound {
    return new ParkingRound(this.#parked, options, (next) => (this.#parked = next));
  }
}

/** The parking decisions of one reload; see {@link ParkedServers.round}. */
export class ParkingRound {
  readonly #before: ReadonlyMap<string, Parked>;
  readonly #specs: ReadonlyMap<string, string>;
  readonly #owners: ReadonlyMap<string, string>;
  readonly #starting: boolean;
  readonly #now: number;
  readonly #commit: (next: Map<string, Parked>) => void;
  readonly #parked = new Map<string, Parked>();

  constructor(
    before: ReadonlyMap<string, Parked>,
    options: Parameters<ParkedServers['round']>[0],
    commit: (next: Map<string, Parked>) => void,
  ) {
    this.#before = before;
    this.#specs = new Map(options.config.virtual_servers.map((vs) => [vs.name, specOf(vs)]));
    this.#owners = options.owners;
    this.#starting = options.starting;
    this.#now = options.now;
    this.#commit = commit;
  }

  /**
   * Parks `name` for failing with `err` when this round may: an API server, at start or parked
   * before with the same definition. Returns false when the failure must refuse the reload.
   */
  park(name: string, err: unknown): boolean {
    const spec = this.#specs.get(name);
    if (spec === undefined || this.#owners.get(`virtual_server/${name}`) !== 'api') return false;
    const before = this.#before.get(name);
    const unchanged = before !== undefined && before.spec === spec;
    if (!this.#starting && !unchanged) return false;
    this.#parked.set(name, {
      spec,
      code: isPosternError(err) ? err.code : 'POSTERN_ERR_LISTEN_FAILED',
      message: err instanceof Error ? err.message : String(err),
      since: unchanged ? before.since : this.#now,
    });
    return true;
  }

  /** Names parked in this round that were not parked before (to be logged once). */
  newlyParked(): string[] {
    return [...this.#parked.keys()].filter(
      (name) => this.#before.get(name)?.spec !== this.#specs.get(name),
    );
  }

  /** Makes this round's parked set the one in force (the reload succeeded). */
  commit(): void {
    this.#commit(new Map(this.#parked));
  }
}

function specOf(vs: Configuration['virtual_servers'][number]): string {
  return JSON.stringify(vs);
}
