// Ways around Node's stream machinery on the per-request path: reads of a reused buffer handed
// over as views (Node's `onread`), reads taken straight from a tunnel stream, and writes a tunnel
// stream takes at once. Each is optional: a connection that does not offer it is used as usual.

/** Receives the reads of a connection dialed with a view reader (DialRequest.viewReader). */
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
