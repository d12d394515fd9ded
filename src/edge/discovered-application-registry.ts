import type { DiscoveredApplications, KubernetesDiscoveredApplication } from '../control/index.js';
import { systemClock, type Clock } from '../core/index.js';
import type { KubernetesService, Message } from '../protocol/index.js';
import { AccessDiscoveries, type AccessRecord } from './access-discoveries.js';

/** Who reported: the tunnel's certificate identity. */
interface Reporter {
  readonly connectorId: string;
  readonly group: string;
}

interface ConnectorEntry {
  group: string;
  services: Map<string, KubernetesService>;
  error: string | undefined;
  connected: boolean;
  /** When the tunnel went down (meaningful while not connected). */
  lastSeenAt: number;
}

/** Default time a disconnected connector's applications stay listed: one hour. */
export const DEFAULT_DISCOVERY_RETENTION_MS = 60 * 60 * 1000;

/**
 * The applications each connector discovered (Kubernetes Services), as it last reported them.
 * A connector's snapshot replaces its previous one; a disconnected connector's entries stay
 * listed, marked so, for `retentionMs`, because an ephemeral pod that went away will not
 * come back to withdraw them.
 */
export class DiscoveredApplicationRegistry {
  readonly #byConnector = new Map<string, ConnectorEntry>();
  readonly #clock: Clock;
  readonly #retentionMs: number;
  readonly #accesses: AccessDiscoveries;

  constructor(options: { clock?: Clock; retentionMs?: number } = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#retentionMs = options.retentionMs ?? DEFAULT_DISCOVERY_RETENTION_MS;
    this.#accesses = new AccessDiscoveries(this.#clock);
  }

  /** Records an access under a wildcard application that reached a concrete name. */
  recordAccess(record: AccessRecord): void {
    this.#accesses.record(record);
  }

  /** Applies one `kubernetes_services` message from a connector. */
  apply(reporter: Reporter, message: Message<'kubernetes_services'>): void {
    // Absent means true (the wire default); a message built in-process may leave it out.
    const replace = message.replace !== false;
    let entry = this.#byConnector.get(reporter.connectorId);
    if (!entry || replace) {
      entry = {
        group: reporter.group,
        services: new Map(),
        error: undefined,
        connected: true,
        lastSeenAt: 0,
      };
      this.#byConnector.set(reporter.connectorId, entry);
    }
    entry.connected = true;
    if (replace) entry.error = message.error;
    for (const s of message.services) entry.services.set(`${s.namespace}/${s.name}`, s);
  }

  /** Marks a connector's entries as seen for the last time now. */
  disconnected(connectorId: string): void {
    const entry = this.#byConnector.get(connectorId);
    if (!entry) return;
    entry.connected = false;
    entry.lastSeenAt = this.#clock.now();
  }

  /** Marks a connector connected again (its fresh snapshot follows). */
  connected(connectorId: string): void {
    const entry = this.#byConnector.get(connectorId);
    if (entry) entry.connected = true;
  }

  /** Every discovered Service, then every name learned from accesses (the admin API's listing). */
  listAll(): DiscoveredApplications {
    const services = this.list();
    return { items: [...services.items, ...this.#accesses.list()], errors: services.errors };
  }

  /** Every discovered Kubernetes Service, sorted by namespace, service and connector. */
  list(): {
    items: KubernetesDiscoveredApplication[];
    errors: DiscoveredApplications['errors'][number][];
  } {
    const now = this.#clock.now();
    const items: KubernetesDiscoveredApplication[] = [];
    const errors: DiscoveredApplications['errors'][number][] = [];
    for (const [connector, entry] of this.#byConnector) {
      if (!entry.connected && now - entry.lastSeenAt > this.#retentionMs) {
        this.#byConnector.delete(connector);
        continue;
      }
      const lastSeen = new Date(entry.connected ? now : entry.lastSeenAt).toISOString();
      if (entry.error !== undefined && entry.connected) {
        errors.push({ connector, group: entry.group, error: entry.error });
      }
      for (const s of entry.services.values()) items.push(view(s, connector, entry, lastSeen));
    }
    items.sort(
      (a, b) =>
        a.namespace.localeCompare(b.namespace) ||
        a.service.localeCompare(b.service) ||
        a.connector.localeCompare(b.connector),
    );
    return { items, errors };
  }
}

function view(
  s: KubernetesService,
  connector: string,
  entry: ConnectorEntry,
  lastSeen: string,
): KubernetesDiscoveredApplication {
  return {
    source: 'kubernetes',
    namespace: s.namespace,
    service: s.name,
    type: s.type,
    headless: s.headless,
    cluster_ip: s.clusterIp,
    expose: s.expose,
    ports: s.ports.map((p) => ({
      name: p.name,
      port: p.port,
      protocol: p.protocol,
      target_port: p.targetPort,
    })),
    addresses: s.addresses,
    connector,
    group: entry.group,
    connected: entry.connected,
    last_seen_at: lastSeen,
  };
}
