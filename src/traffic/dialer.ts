import type { Duplex } from 'node:stream';

/** What a virtual server asks of whoever reaches upstreams. */
export interface DialRequest {
  /** Destination `host:port`, resolved by whoever dials (a connector resolves in its own network). */
  readonly address: string;
  /** Connector group to reach the destination through; absent means dial directly. */
  readonly via?: string;
  /** Correlates logs on both sides of the tunnel. */
  readonly sessionId: string;
  /** Give up after this long. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /**
   * Asks for a plain TCP connection read into one reused buffer (Node's `onread`): each read
   * goes to `viewReader.onView` as a view valid only during that call, instead of 'data'
   * events. Dialers that cannot (tunnels) ignore it; `DialResult.viewReads` says which happened.
   */
  readonly viewReader?: ViewReader;
}

/** Receives the reads of a connection dialed with {@link DialRequest.viewReader}. */
export interface ViewReader {
  /**
   * Set by whoever consumes the connection (with {@link takeViews}). A view that is not
   * `owned` is valid only during the call (its memory is reused by the next read); an owned
   * one may be kept.
   */
  onView: ((view: Buffer, owned: boolean) => void) | undefined;
  /** Copies of reads that came before a consumer was set, delivered first by {@link takeViews}. */
  held?: Buffer[] | undefined;
}

/** Hands a read to the reader's consumer, or keeps it (a copy unless owned) until there is one. */
export function deliverView(reader: ViewReader, view: Buffer, owned: boolean): void {
  if (reader.onView) reader.onView(view, owned);
  else (reader.held ??= []).push(owned ? view : Buffer.from(view));
}

/** Makes `onView` the reader's consumer, after giving it what arrived before. */
export function takeViews(
  reader: ViewReader,
  onView: (view: Buffer, owned: boolean) => void,
): void {
  const held = reader.held;
  reader.held = undefined;
  reader.onView = onView;
  for (const view of held ?? []) onView(view, true);
}

/**
 * A connection that can hand its reads to a function directly, skipping Readable's buffer and
 * 'data' event while it flows with nothing buffered (the tunnel's streams can). The consumer
 * still listens for 'data', which carries what was buffered while the connection was paused.
 */
export interface DirectReadable {
  setDirectReader(reader: (chunk: Buffer) => void): void;
}

/** Calls `socket.setDirectReader(reader)` when the socket offers it. */
export function readDirectly(socket: object, reader: (chunk: Buffer) => void): void {
  const direct = socket as Partial<DirectReadable>;
  if (typeof direct.setDirectReader === 'function') direct.setDirectReader(reader);
}

/**
 * A connection that can take a write only when it goes out at once and is then done with the
 * bytes (the tunnel's streams can): a reader of a reused buffer hands such a destination its
 * view without copying it.
 */
export interface ImmediateWritable {
  writeIfImmediate(chunk: Buffer): boolean;
}

/** `dst.writeIfImmediate(chunk)` when `dst` offers it; false (nothing written) otherwise. */
export function writeImmediately(dst: object, chunk: Buffer): boolean {
  const immediate = dst as Partial<ImmediateWritable>;
  return typeof immediate.writeIfImmediate === 'function' && immediate.writeIfImmediate(chunk);
}

/** A connected upstream and how it was reached. */
export interface DialResult {
  readonly socket: Duplex;
  /** Which connector carried the session, when it went through a tunnel. */
  readonly connectorId?: string;
  /** `address:port` the connector connected to, when it said so in its dial result. */
  readonly resolvedAddress?: string;
  /** The socket's reads go to the request's `viewReader`, not to 'data' events. */
  readonly viewReads?: boolean;
}

/**
 * Reaches upstreams. The traffic layer knows nothing of tunnels: the edge supplies a Dialer
 * that goes through a connector for `via` pools and straight out otherwise. Failures reject
 * with a PosternError whose code names the reason (POSTERN_ERR_DIAL_*).
 */
export interface Dialer {
  dial(request: DialRequest): Promise<DialResult>;
}
