import { Buffer } from 'node:buffer';
import type tls from 'node:tls';
import type { PosternError } from '../core/index.js';
import {
  DEFAULT_MAX_FRAME_SIZE,
  Flag,
  FrameType,
  HEADER_SIZE,
  checkHeader,
  encodeDataHeader,
  encodeMessage,
  makeMessage,
} from '../protocol/index.js';

/** How a refused tunnel connection is answered. */
export interface TunnelRefusalOptions {
  /** How long to wait for the connector to open its control stream; default 10 s. */
  readonly timeoutMs?: number | undefined;
  /** How long after the answer the connection is cut if the peer has not closed it; default 250 ms. */
  readonly lingerMs?: number | undefined;
}

/** What became of a refusal: the error was delivered, or the peer never opened a stream. */
export type TunnelRefusalOutcome = 'answered' | 'no_control_stream';

/**
 * Refuses a tunnel without running a yamux session for the peer: only the first frame headers
 * are read (a ping or two, then the connector's control-stream SYN), that stream is answered
 * with one data frame (ACK + FIN) holding the `error` message the connector logs, and the
 * connection is ended and cut soon after. No other stream is acknowledged and no other frame is parsed: everything
 * else the peer sends is dropped unread, so an unauthenticated peer gets no session to use.
 */
export function refuseTunnel(
  socket: tls.TLSSocket,
  err: PosternError,
  options: TunnelRefusalOptions = {},
): Promise<TunnelRefusalOutcome> {
  const lingerMs = options.lingerMs ?? 250;
  return new Promise((resolve) => {
    let head = Buffer.alloc(0);
    let headers = 0;
    let settled = false;
    const finish = (outcome: TunnelRefusalOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (outcome === 'answered') {
        socket.end();
        // Keep draining (unread data would make the close a reset, which can drop the answer).
        setTimeout(() => socket.destroy(), lingerMs).unref();
      } else {
        socket.destroy();
      }
      resolve(outcome);
    };
    const timer = setTimeout(() => finish('no_control_stream'), options.timeoutMs ?? 10_000);
    timer.unref();
    socket.on('data', (chunk: Buffer) => {
      let rest = chunk;
      while (!settled && rest.length > 0) {
        const take = HEADER_SIZE - head.length;
        head = Buffer.concat([head, rest.subarray(0, take)]);
        rest = rest.subarray(take);
        if (head.length < HEADER_SIZE) return;
        const opened = openedStream(head);
        head = Buffer.alloc(0);
        // A connector sends its first keepalive ping before the SYN: skip a few, answer none.
        if (opened === 'ping' && ++headers < MAX_HEADERS) continue;
        if (typeof opened !== 'number') return finish('no_control_stream');
        socket.write(refusalFrame(opened, err));
        finish('answered');
      }
    });
    socket.once('close', () => finish('no_control_stream'));
  });
}

/** Frame headers read at most before the stream opening (pings only). */
const MAX_HEADERS = 4;

/**
 * The stream id of a valid frame header opening a connector-side (odd) stream, 'ping' for a
 * ping request, else undefined.
 */
function openedStream(header: Buffer): number | 'ping' | undefined {
  const type = header.readUInt8(1) as FrameType;
  const flags = header.readUInt16BE(2);
  const streamId = header.readUInt32BE(4);
  const length = header.readUInt32BE(8);
  const invalid = checkHeader(
    header.readUInt8(0),
    { type, flags, streamId, length },
    DEFAULT_MAX_FRAME_SIZE,
  );
  if (invalid !== undefined) return undefined;
  if (type === FrameType.Ping && flags === Flag.SYN) return 'ping';
  const opens = (type === FrameType.Data || type === FrameType.WindowUpdate) && flags & Flag.SYN;
  return opens && streamId % 2 === 1 ? streamId : undefined;
}

/** One data frame accepting `streamId`, carrying the `error` message and closing the stream. */
function refusalFrame(streamId: number, err: PosternError): Buffer {
  const payload = encodeMessage(
    makeMessage({ type: 'error', code: err.code, message: err.message }),
  );
  const header = encodeDataHeader(streamId, {
    length: payload.length,
    flags: Flag.ACK | Flag.FIN,
  });
  return Buffer.concat([header, payload]);
}
