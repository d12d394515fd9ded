import { PosternError } from '../core/index.js';

/** Errors raised by the multiplexed tunnel session and its streams. */
export const TunnelErrors = {
  sessionClosed: (cause?: unknown) =>
    new PosternError(
      'POSTERN_ERR_TUNNEL_SESSION_CLOSED',
      'The tunnel session is closed, so the stream or operation was cut off. Open a new tunnel and retry.',
      cause === undefined ? {} : { cause },
    ),
  goingAway: () =>
    new PosternError(
      'POSTERN_ERR_TUNNEL_GOING_AWAY',
      'This side is shutting the tunnel down (go-away sent) and opens no new streams. Use another tunnel.',
    ),
  remoteGoingAway: () =>
    new PosternError(
      'POSTERN_ERR_TUNNEL_REMOTE_GOING_AWAY',
      'The peer is shutting the tunnel down (go-away received) and accepts no new streams. Use another tunnel.',
    ),
  tooManyStreams: (max: number) =>
    new PosternError(
      'POSTERN_ERR_TUNNEL_TOO_MANY_STREAMS',
      `The tunnel already carries its maximum of ${max} concurrent streams. Wait for streams to finish, spread load over more tunnels, or raise maxStreams.`,
    ),
  streamsExhausted: () =>
    new PosternError(
      'POSTERN_ERR_TUNNEL_STREAMS_EXHAUSTED',
      'The tunnel has used every stream id (2^32). Close it and open a new tunnel.',
    ),
  streamRefused: (id: number) =>
    new PosternError(
      'POSTERN_ERR_TUNNEL_STREAM_REFUSED',
      `The peer refused stream ${id} (its stream cap or accept backlog is full, or it is going away). Retry later or on another tunnel.`,
    ),
  streamReset: (id: number) =>
    new PosternError(
      'POSTERN_ERR_TUNNEL_STREAM_RESET',
      `The peer reset stream ${id}; the data exchange was aborted. The peer's logs say why.`,
    ),
  keepaliveTimeout: (ms: number) =>
    new PosternError(
      'POSTERN_ERR_TUNNEL_KEEPALIVE_TIMEOUT',
      `Nothing arrived from the peer for ${ms} ms, not even a ping reply, so the tunnel is considered dead. Check the network path; raise keepAliveTimeoutMs for very slow links.`,
    ),
  protocol: (what: string, cause?: unknown) =>
    new PosternError(
      'POSTERN_ERR_TUNNEL_PROTOCOL',
      `The peer broke the tunnel protocol: ${what}. The session was closed with a protocol-error go-away; check that the peer is a compatible Postern or yamux version.`,
      cause === undefined ? {} : { cause },
    ),
  remoteError: (code: number) =>
    new PosternError(
      'POSTERN_ERR_TUNNEL_REMOTE_ERROR',
      `The peer closed the tunnel with go-away code ${code} (1 = protocol error, 2 = internal error). The peer's logs say why.`,
    ),
  transport: (cause: unknown) =>
    new PosternError(
      'POSTERN_ERR_TUNNEL_TRANSPORT',
      'The connection carrying the tunnel failed or ended unexpectedly. The tunnel will need to be re-established.',
      { cause },
    ),
  messageTimeout: (ms: number) =>
    new PosternError(
      'POSTERN_ERR_TUNNEL_TIMEOUT',
      `The peer sent no message within ${ms} ms. It may be overloaded or not a Postern peer.`,
    ),
  closeTimeout: (ms: number) =>
    new PosternError(
      'POSTERN_ERR_TUNNEL_CLOSE_TIMEOUT',
      `Streams were still open ${ms} ms after the tunnel began closing, so they were cut off. Raise closeTimeoutMs to give long transfers more time.`,
    ),
} as const;
