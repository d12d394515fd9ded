import type { Logger } from 'pino';
import type { EdgeTunnel } from './edge-tunnel.js';

/** What the drain watch reads. */
export interface AdminDrainOptions {
  readonly logger: Logger;
  /** The tunnels in the set now. */
  readonly tunnels: () => Iterable<EdgeTunnel>;
  /** This connector's id, for the log line and the undrain hint. */
  readonly connectorId: () => string;
  /** Called after each change (true: drained). */
  readonly onChange: (drained: boolean) => void;
}

/**
 * Follows an administrator's drain as the edges report it (`drain` / `undrain` on the control
 * stream): the connector counts as drained while any edge in its set says so, since the drain
 * is kept in the store that every edge of the set reads. Each change is logged at info, so the
 * operator on the connector host can tell why no new sessions arrive.
 */
export class AdminDrainWatch {
  readonly #o: AdminDrainOptions;
  #drained = false;

  constructor(options: AdminDrainOptions) {
    this.#o = options;
  }

  /** True while an edge says an administrator drained this connector. */
  get drained(): boolean {
    return this.#drained;
  }

  /** Re-reads the tunnels (one reported a change, joined or left the set). */
  update(): void {
    let drained = false;
    for (const tunnel of this.#o.tunnels()) drained ||= tunnel.drainedByEdge;
    if (drained === this.#drained) return;
    this.#drained = drained;
    const connector = this.#o.connectorId();
    if (drained) {
      this.#o.logger.info(
        { connector },
        `drained by the edge's operator: no new sessions come through this connector, sessions in flight go on (lift it with \`postern connectors undrain ${connector}\`)`,
      );
    } else {
      this.#o.logger.info(
        { connector },
        "undrained by the edge's operator: new sessions come through this connector again",
      );
    }
    this.#o.onChange(drained);
  }
}
