import type { Duplex } from 'node:stream';
import type { ViewReader } from './io-shortcuts.js';
import type { OpeningBytes } from './opening-bytes.js';

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
  /**
   * Bytes the upstream gets first (see OpeningBytes). A tunnel dialer sends them, and those the
   * client adds meanwhile, right behind its dial header (`sendTo`), stops at its answer
   * (`detach`) and, when the dial fails, leaves them all for the next attempt (`resend`). Others
   * ignore it; the caller writes `unsent()` once the upstream is there.
   */
  readonly opening?: OpeningBytes;
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
