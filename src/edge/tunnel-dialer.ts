import type { Logger } from 'pino';
import { isPosternError } from '../core/index.js';
import { makeMessage } from '../protocol/index.js';
import { readMessage, writeMessage } from '../tunnel/index.js';
import {
  DirectDialer,
  dialError,
  trafficErrors,
  type Dialer,
  type DialRequest,
  type DialResult,
} from '../traffic/index.js';
import type { ConnectorRegistry, ConnectorTunnel } from './connector-registry.js';
import type { EdgeMetrics } from './edge-metrics.js';
import { edgeErrors } from './errors.js';

/**
 * How long a connector that left a dial unanswered takes no new sessions: the keepalive timeout,
 * after which a truly hung one has lost its tunnel anyway.
 */
const UNANSWERED_PAUSE_MS = 30_000;

/**
 * The edge's Dialer: pools with `via` go through a connector of that group (a new stream
 * with a dial header, answered by a dial result); others are dialed directly. A failed
 * dial is retried once on another connector of the group when there is one.
 */
export class TunnelDialer implements Dialer {
  readonly #registry: ConnectorRegistry;
  readonly #direct = new DirectDialer();
  readonly #log: Logger;
  readonly #metrics: EdgeMetrics;

  constructor(registry: ConnectorRegistry, options: { logger: Logger; metrics: EdgeMetrics }) {
    this.#registry = registry;
    this.#log = options.logger;
    this.#metrics = options.metrics;
  }

  async dial(request: DialRequest): Promise<DialResult> {
    if (request.via === undefined) return this.#direct.dial(request);
    const tried = new Set<string>();
    let lastError: unknown;
    for (let attempt = 0; attempt < 2; attempt++) {
      const tunnel = this.#registry.pick(request.via, tried);
      if (!tunnel) break;
      tried.add(tunnel.connectorId);
      try {
        return await this.#dialThrough(tunnel, request);
      } catch (err) {
        lastError = err;
        const reason = isPosternError(err) ? err.code : 'POSTERN_ERR_DIAL_FAILED';
        this.#metrics.dialFailures.inc({ reason });
        this.#log.warn(
          {
            session: request.sessionId,
            connector: tunnel.connectorId,
            target: request.address,
            reason,
            err: (err as Error).message,
          },
          'dial through connector failed',
        );
        if (isPosternError(err, 'POSTERN_ERR_DIAL_NOT_ALLOWED')) break;
      }
    }
    if (tried.size === 0) {
      this.#metrics.dialFailures.inc({ reason: 'POSTERN_ERR_NO_CONNECTOR' });
      throw trafficErrors.noConnector(request.via);
    }
    throw lastError;
  }

  /** Dials through one given tunnel, no retry: for frontends that choose the connector themselves. */
  dialVia(tunnel: ConnectorTunnel, request: DialRequest): Promise<DialResult> {
    return this.#dialThrough(tunnel, request);
  }

  async #dialThrough(tunnel: ConnectorTunnel, request: DialRequest): Promise<DialResult> {
    try {
      return await this.#dialStream(tunnel, request);
    } catch (err) {
      // Whatever went with the dial header died with this stream.
      request.opening?.resend();
      throw err;
    }
  }

  async #dialStream(tunnel: ConnectorTunnel, request: DialRequest): Promise<DialResult> {
    const stream = tunnel.session.openStream();
    stream.on('error', () => undefined);
    writeMessage(
      stream,
      makeMessage({
        type: 'dial',
        target: request.address,
        protocol: 'tcp',
        sessionId: request.sessionId,
        timeoutMs: request.timeoutMs,
      }),
    );
    // The session's first bytes follow the header at once: the connector holds them in the
    // stream until its dial succeeded, so the application gets them one round trip sooner.
    request.opening?.sendTo((chunk) => stream.write(chunk));
    let result;
    try {
      // The connector answers within its own dial timeout; allow it a margin for the RTT.
      result = await readMessage(stream, {
        timeoutMs: request.timeoutMs + 2000,
        maxBytes: 16 * 1024,
      });
    } catch (err) {
      stream.destroy();
      // No answer at all, not even the connector's own timeout: the connector is hung or
      // overloaded (its tunnel goes once keepalive fails), which a bare read timeout hides.
      if (isPosternError(err, 'POSTERN_ERR_TUNNEL_TIMEOUT')) {
        // New sessions go to the group's other connectors meanwhile, instead of each waiting
        // here too; an answer to a dial already under way clears it.
        tunnel.unansweredUntil = Date.now() + UNANSWERED_PAUSE_MS;
        throw edgeErrors.connectorSilent(
          tunnel.connectorId,
          request.address,
          request.timeoutMs + 2000,
        );
      }
      throw err;
    }
    request.opening?.detach();
    if (tunnel.unansweredUntil !== undefined) tunnel.unansweredUntil = undefined;
    if (result?.type !== 'dial_result') {
      stream.destroy();
      throw trafficErrors.dialFailed(
        request.address,
        ` (connector ${tunnel.connectorId} closed the stream without a result)`,
      );
    }
    if (result.code !== 'ok') {
      stream.destroy();
      throw dialError(
        result.code,
        request.address,
        `connector ${tunnel.connectorId}: ${result.message}`,
      );
    }
    tunnel.activeSessions += 1;
    tunnel.sessionsOpened += 1;
    this.#metrics.openStreams.inc();
    stream.once('close', () => {
      tunnel.activeSessions -= 1;
      tunnel.bytesToConnector += stream.stats.bytesSent;
      tunnel.bytesFromConnector += stream.stats.bytesReceived;
      this.#metrics.openStreams.dec();
    });
    return {
      socket: stream,
      connectorId: tunnel.connectorId,
      ...(result.resolvedAddress === undefined ? {} : { resolvedAddress: result.resolvedAddress }),
    };
  }
}
