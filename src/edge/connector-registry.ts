import { EventEmitter } from 'node:events';
import type { MuxSession, MessageChannel } from '../tunnel/index.js';
import type { Message } from '../protocol/index.js';

/** A connector's live tunnel to this edge. */
export interface ConnectorTunnel {
  readonly connectorId: string;
  readonly group: string;
  readonly session: MuxSession;
  readonly control: MessageChannel;
  readonly hello: Message<'hello'>;
  readonly remoteAddress: string;
  readonly connectedAt: number;
  /** Set when the connector announced drain: it finishes sessions but takes no new ones. */
  draining: boolean;
  /** Sessions opened through this tunnel that have not ended yet. */
  activeSessions: number;
  /** Sessions opened through this tunnel since it came up (for connector_metrics logs). */
  sessionsOpened: number;
  /** Payload bytes of ended sessions, edge → connector and back. */
  bytesToConnector: number;
  bytesFromConnector: number;
  /**
   * Until when (ms since the epoch) the connector takes no new sessions because it left a dial
   * unanswered (hung or overloaded); cleared by its next answer. Keepalive drops a truly hung one.
   */
  unansweredUntil?: number | undefined;
}

interface RegistryEvents {
  added: [ConnectorTunnel];
  removed: [ConnectorTunnel];
  /** The connector announced drain (for connector_status logs). */
  draining: [ConnectorTunnel];
}

/**
 * The connectors holding a tunnel to this edge, by group, and the choice of one for a new
 * session: the group's usable tunnels in turn (round robin), skipping draining ones and those
 * that just left a dial unanswered.
 */
export class ConnectorRegistry extends EventEmitter<RegistryEvents> {
  readonly #byId = new Map<string, ConnectorTunnel>();
  readonly #cursor = new Map<string, number>();

  /** Adds a tunnel; a connector's previous tunnel to this edge is replaced and returned. */
  add(tunnel: ConnectorTunnel): ConnectorTunnel | undefined {
    const previous = this.#byId.get(tunnel.connectorId);
    this.#byId.set(tunnel.connectorId, tunnel);
    if (previous) this.emit('removed', previous);
    this.emit('added', tunnel);
    return previous;
  }

  /** Removes a tunnel if it is still the current one for its connector. */
  remove(tunnel: ConnectorTunnel): void {
    if (this.#byId.get(tunnel.connectorId) !== tunnel) return;
    this.#byId.delete(tunnel.connectorId);
    this.emit('removed', tunnel);
  }

  /** The tunnel of one connector, if it is connected here. */
  get(connectorId: string): ConnectorTunnel | undefined {
    return this.#byId.get(connectorId);
  }

  /** Every tunnel, optionally of one group. */
  list(group?: string): ConnectorTunnel[] {
    const all = [...this.#byId.values()];
    return group === undefined ? all : all.filter((t) => t.group === group);
  }

  /** Tunnels that may take a new session: not draining, closing, or left a dial unanswered. */
  usable(group: string): ConnectorTunnel[] {
    return this.list(group).filter(
      (t) =>
        !t.draining &&
        !t.session.closed &&
        !t.session.goingAway &&
        !t.session.remoteGoingAway &&
        // The clock is read only for a connector that left a dial unanswered: this runs per dial.
        (t.unansweredUntil === undefined || t.unansweredUntil <= Date.now()),
    );
  }

  /** Picks the next usable tunnel of the group, skipping connectors in `exclude`. */
  pick(group: string, exclude: ReadonlySet<string> = new Set()): ConnectorTunnel | undefined {
    const candidates = this.usable(group).filter((t) => !exclude.has(t.connectorId));
    if (candidates.length === 0) return undefined;
    const cursor = this.#cursor.get(group) ?? 0;
    this.#cursor.set(group, (cursor + 1) % Number.MAX_SAFE_INTEGER);
    return candidates[cursor % candidates.length];
  }
}
