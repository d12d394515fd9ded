import { CoreErrors, systemClock } from '../core/index.js';
import type { Clock } from '../core/index.js';
import type { Duplex } from 'node:stream';
import { DEFAULT_MAX_FRAME_SIZE, INITIAL_WINDOW } from '../protocol/index.js';

/** A pino-compatible logger; only `debug` and `warn` are used. */
export interface TunnelLogger {
  debug(...args: unknown[]): void;
  warn(...args: unknown[]): void;
}

/**
 * A cheaper way to read the transport than 'data' events, where the transport allows it
 * (traffic's directSocketReads: reads from the socket's handle into a shared buffer). `start`
 * hands reads to `onData`, which stays the session's 'data' listener for what comes the usual
 * way; `stop` ends it when the session lets go of the transport.
 */
export interface TransportReads {
  start(transport: Duplex, onData: (chunk: Buffer) => void): boolean;
  stop(transport: Duplex): void;
}

/** Options of a {@link MuxSession}; every limit has a default. */
export interface SessionOptions {
  /** `client` is the side that dialed and opens odd stream ids; `server` opens even ids. */
  role: 'client' | 'server';
  /** Receive window each new stream starts with; at least 256 KiB (the yamux wire default). Default 256 KiB. */
  initialWindow?: number;
  /** Ceiling of the per-stream receive window auto-tuning. Default 16 MiB. */
  maxWindow?: number;
  /**
   * Growth of all streams' receive windows beyond their initial window, together: the
   * session-level bound on buffered data (HTTP/2's connection window). Default 64 MiB.
   */
  maxSessionWindow?: number;
  /** Concurrent streams cap; extra SYNs from the peer are reset. Default 10000. */
  maxStreams?: number;
  /** Streams opened by the peer but not yet accepted; extra ones are reset. Default 256. */
  acceptBacklog?: number;
  /** Interval between keepalive pings; 0 disables keepalive and dead-peer detection. Default 15000. */
  keepAliveIntervalMs?: number;
  /** The peer is declared dead this long (at most a quarter more) after its last inbound byte. Default 30000. */
  keepAliveTimeoutMs?: number;
  /** Largest data frame accepted from the peer. Default 16 MiB (at least maxWindow). */
  maxFrameSize?: number;
  /** How long `close()` waits for streams to finish before cutting them off. Default 30000. */
  closeTimeoutMs?: number;
  /** Time source for keepalive, RTT and window tuning. Default the system clock. */
  clock?: Clock;
  /** Optional pino-compatible logger. */
  logger?: TunnelLogger;
  /** Reads the transport without 'data' events where it can. Default: 'data' events. */
  directReads?: TransportReads;
  /**
   * Streams the peer opens and a 'stream' listener takes are acknowledged by the first frame
   * they send (data, FIN or RST carry the ACK flag, as the yamux specification allows) rather
   * than by a window update of their own. A connector answers each dial with a result: its
   * ACK rides on that frame instead of waking the edge once more for nothing. Default false.
   */
  ackWithFirstFrame?: boolean;
}

/** Session options with every default applied. */
export interface ResolvedSessionOptions {
  readonly role: 'client' | 'server';
  readonly initialWindow: number;
  readonly maxWindow: number;
  readonly maxSessionWindow: number;
  readonly maxStreams: number;
  readonly acceptBacklog: number;
  readonly keepAliveIntervalMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxFrameSize: number;
  readonly closeTimeoutMs: number;
  readonly clock: Clock;
  readonly logger: TunnelLogger | undefined;
  readonly directReads: TransportReads | undefined;
  readonly ackWithFirstFrame: boolean;
}

const MAX_U32 = 0xffff_ffff;

function positiveInt(name: string, value: number, min: number, max = MAX_U32): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw CoreErrors.invalidArgument(
      `session option ${name}`,
      `need an integer from ${min} to ${max}, got ${value}`,
    );
  }
  return value;
}

/** Applies defaults and validates, throwing POSTERN_ERR_INVALID_ARGUMENT on nonsense. */
export function resolveSessionOptions(options: SessionOptions): ResolvedSessionOptions {
  if (options.role !== 'client' && options.role !== 'server') {
    throw CoreErrors.invalidArgument('session option role', "need 'client' or 'server'");
  }
  const initialWindow = positiveInt(
    'initialWindow',
    options.initialWindow ?? INITIAL_WINDOW,
    INITIAL_WINDOW,
  );
  const maxWindow = positiveInt('maxWindow', options.maxWindow ?? 16 * 1024 * 1024, initialWindow);
  const keepAliveIntervalMs = positiveInt(
    'keepAliveIntervalMs',
    options.keepAliveIntervalMs ?? 15_000,
    0,
  );
  return Object.freeze({
    role: options.role,
    initialWindow,
    maxWindow,
    maxSessionWindow: positiveInt(
      'maxSessionWindow',
      options.maxSessionWindow ?? 64 * 1024 * 1024,
      0,
    ),
    maxStreams: positiveInt('maxStreams', options.maxStreams ?? 10_000, 1),
    acceptBacklog: positiveInt('acceptBacklog', options.acceptBacklog ?? 256, 1),
    keepAliveIntervalMs,
    keepAliveTimeoutMs: positiveInt('keepAliveTimeoutMs', options.keepAliveTimeoutMs ?? 30_000, 1),
    maxFrameSize: positiveInt(
      'maxFrameSize',
      options.maxFrameSize ?? Math.max(DEFAULT_MAX_FRAME_SIZE, maxWindow),
      maxWindow,
    ),
    closeTimeoutMs: positiveInt('closeTimeoutMs', options.closeTimeoutMs ?? 30_000, 0),
    clock: options.clock ?? systemClock,
    logger: options.logger,
    directReads: options.directReads,
    ackWithFirstFrame: options.ackWithFirstFrame ?? false,
  });
}
