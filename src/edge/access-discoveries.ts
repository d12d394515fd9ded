import type { AccessDiscoveredApplication } from '../control/index.js';
import type { Clock } from '../core/index.js';

/** ZPA lists discovered applications for 14 days after they were last seen. */
export const ACCESS_DISCOVERY_RETENTION_MS = 14 * 24 * 60 * 60 * 1000;
/** Most names kept; the least recently seen leave first. */
export const MAX_ACCESS_DISCOVERIES = 10_000;

/** One access under a wildcard application that reached a concrete name. */
export interface AccessRecord {
  readonly name: string;
  readonly port: number;
  readonly resolvedAddress: string | undefined;
  readonly application: string;
  readonly group: string;
  readonly connector: string;
}

interface Entry {
  record: AccessRecord;
  firstSeen: number;
  lastSeen: number;
  count: number;
}

/**
 * Application learning (ZPA's Discovered Applications): the concrete names users reached under
 * wildcard applications, one entry per name, port and application, kept for `retentionMs`
 * after the last access. Passive: nothing is scanned, only accesses are recorded.
 */
export class AccessDiscoveries {
  readonly #entries = new Map<string, Entry>();
  readonly #clock: Clock;
  readonly #retentionMs: number;
  readonly #max: number;

  constructor(clock: Clock, options: { retentionMs?: number; max?: number } = {}) {
    this.#clock = clock;
    this.#retentionMs = options.retentionMs ?? ACCESS_DISCOVERY_RETENTION_MS;
    this.#max = options.max ?? MAX_ACCESS_DISCOVERIES;
  }

  /** Counts one access. */
  record(record: AccessRecord): void {
    const now = this.#clock.now();
    const name = record.name.toLowerCase().replace(/\.$/, '');
    const key = `${name}\n${record.port}\n${record.application}`;
    const entry = this.#entries.get(key);
    if (entry !== undefined) {
      // Re-inserted so the map stays in order of last access (the oldest is evicted first).
      this.#entries.delete(key);
      this.#entries.set(key, {
        record: {
          ...record,
          name,
          resolvedAddress: record.resolvedAddress ?? entry.record.resolvedAddress,
        },
        firstSeen: entry.firstSeen,
        lastSeen: now,
        count: entry.count + 1,
      });
      return;
    }
    if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, {
      record: { ...record, name },
      firstSeen: now,
      lastSeen: now,
      count: 1,
    });
  }

  /** Every name still within the retention, by name, port and application. */
  list(): AccessDiscoveredApplication[] {
    const now = this.#clock.now();
    const out: AccessDiscoveredApplication[] = [];
    for (const [key, e] of this.#entries) {
      if (now - e.lastSeen > this.#retentionMs) {
        this.#entries.delete(key);
        continue;
      }
      out.push({
        source: 'access',
        name: e.record.name,
        port: e.record.port,
        resolved_address: e.record.resolvedAddress,
        application: e.record.application,
        group: e.record.group,
        connector: e.record.connector,
        first_seen_at: new Date(e.firstSeen).toISOString(),
        last_seen_at: new Date(e.lastSeen).toISOString(),
        count: e.count,
      });
    }
    return out.sort(
      (a, b) =>
        a.name.localeCompare(b.name) ||
        a.port - b.port ||
        a.application.localeCompare(b.application),
    );
  }
}

/**
 * What an access teaches, or undefined when it teaches nothing: only a name reached under a
 * wildcard domain of its application (not an exact domain, not an address under a CIDR).
 */
export function learnedFromAccess(
  event: {
    readonly application: { readonly name: string; readonly domains: readonly string[] };
    readonly host: string;
    readonly port: number;
    readonly connectorId: string | undefined;
    readonly resolvedAddress: string | undefined;
  },
  group: string | undefined,
): AccessRecord | undefined {
  const name = event.host.toLowerCase().replace(/\.$/, '');
  if (isIpLiteral(name) || event.connectorId === undefined || group === undefined) return undefined;
  const domains = event.application.domains.map((d) => d.toLowerCase());
  if (domains.includes(name)) return undefined;
  if (!domains.some((d) => d.startsWith('*.') && name.endsWith(d.slice(1)))) return undefined;
  return {
    name,
    port: event.port,
    resolvedAddress: event.resolvedAddress,
    application: event.application.name,
    group,
    connector: event.connectorId,
  };
}

function isIpLiteral(host: string): boolean {
  return /^[0-9.]+$/.test(host) || host.includes(':');
}
