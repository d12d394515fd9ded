import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { makeMessage } from '../protocol/index.js';
import { readMessage, writeMessage } from '../tunnel/index.js';
import { joinStreams, splitHostPort, type ViewReader } from '../traffic/index.js';
import type { ConnectorMetrics } from './connector-metrics.js';
import { dialTarget } from './target-dialer.js';
import type { TargetPolicy } from './target-policy.js';

/** Counters a connector keeps about the sessions it carries. */
export interface SessionCounters {
  active: number;
  total: number;
  failed: number;
}

/**
 * Serves one data stream the edge opened: read the dial header, dial the destination if the
 * group's policy allows it, answer with a dial result, then join the two byte streams.
 */
export async function handleDataStream(
  stream: Duplex,
  options: {
    policy: () => TargetPolicy;
    logger: Logger;
    counters: SessionCounters;
    /** Told of each destination dialed (allowed), whether or not it answered. */
    onDialed?: ((target: { host: string; port: number }) => void) | undefined;
    /** Counts sessions, bytes and dial failures; default none. */
    metrics?: ConnectorMetrics | undefined;
  },
): Promise<void> {
  const { logger, counters, metrics } = options;
  stream.on('error', () => undefined);
  let dial;
  try {
    dial = await readMessage(stream, { timeoutMs: 10_000, maxBytes: 16 * 1024 });
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'bad dial header from edge');
    stream.destroy();
    return;
  }
  if (dial?.type !== 'dial') {
    stream.destroy();
    return;
  }
  // Fields on each line rather than a child logger per session: pino builds a child's bindings
  // (and redaction) eagerly, which showed in profiles of short sessions.
  const session = dial.sessionId;
  const target = dial.target;
  // The application's reads land in one reused buffer; the tunnel stream copies them into its
  // outgoing batch (or the join copies what it cannot take at once).
  const reader: ViewReader = { onView: undefined };
  const outcome = await dialTarget(target, {
    policy: options.policy(),
    timeoutMs: dial.timeoutMs,
    reader,
  });
  if (outcome.code !== 'not_allowed') {
    const hostPort = splitHostPort(target);
    if (hostPort) options.onDialed?.(hostPort);
  }
  if (outcome.code !== 'ok') {
    counters.failed += 1;
    metrics?.dialFailures.inc({ reason: outcome.code });
    logger.warn(
      { session, target, code: outcome.code, reason: outcome.message },
      'dial refused or failed',
    );
    writeMessage(
      stream,
      makeMessage({ type: 'dial_result', code: outcome.code, message: outcome.message }),
    );
    stream.end();
    return;
  }
  writeMessage(
    stream,
    makeMessage({
      type: 'dial_result',
      code: 'ok',
      message: '',
      resolvedAddress: outcome.resolvedAddress,
    }),
  );
  counters.active += 1;
  counters.total += 1;
  metrics?.sessions.inc();
  joinStreams(
    stream,
    outcome.socket,
    (reason) => {
      counters.active -= 1;
      metrics?.bytes.inc({ direction: 'to_target' }, outcome.socket.bytesWritten);
      metrics?.bytes.inc({ direction: 'to_edge' }, outcome.socket.bytesRead);
      if (logger.isLevelEnabled('debug')) {
        const { bytesWritten: sent, bytesRead: received } = outcome.socket;
        logger.debug({ session, target, reason, sent, received }, 'session ended');
      }
    },
    { bViews: reader },
  );
}
