import { Buffer } from 'node:buffer';
import { ProtocolErrors } from './errors.js';
import type { PosternError } from '../core/index.js';

/** Size in bytes of every yamux frame header. */
export const HEADER_SIZE = 12;

/** The only yamux protocol version. */
export const PROTOCOL_VERSION = 0;

/** The initial per-stream window both sides assume, fixed by the yamux specification. */
export const INITIAL_WINDOW = 256 * 1024;

/** yamux frame types. */
export const FrameType = {
  Data: 0,
  WindowUpdate: 1,
  Ping: 2,
  GoAway: 3,
} as const;
/** One of the {@link FrameType} values. */
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** yamux header flags (a bit set). */
export const Flag = {
  SYN: 1,
  ACK: 2,
  FIN: 4,
  RST: 8,
} as const;

const KNOWN_FLAGS = Flag.SYN | Flag.ACK | Flag.FIN | Flag.RST;

/** Codes carried in the length field of a go-away frame. */
export const GoAwayCode = {
  Normal: 0,
  ProtocolError: 1,
  InternalError: 2,
} as const;

/** The decoded fields of a frame header. */
export interface FrameHeader {
  type: FrameType;
  flags: number;
  streamId: number;
  /** Payload size (data), window increment (window update), opaque value (ping) or code (go-away). */
  length: number;
}

/** A whole frame; `payload` is empty for every type but data. */
export interface Frame extends FrameHeader {
  payload: Buffer;
}

/** Writes `header` as 12 big-endian bytes at the start of `out` (default: a fresh buffer) and returns it. */
export function encodeHeader(
  header: FrameHeader,
  out: Buffer = Buffer.allocUnsafe(HEADER_SIZE),
): Buffer {
  out[0] = PROTOCOL_VERSION;
  out[1] = header.type;
  out.writeUInt16BE(header.flags, 2);
  out.writeUInt32BE(header.streamId, 4);
  out.writeUInt32BE(header.length, 8);
  return out;
}

/** Encodes the header of a data frame carrying `length` payload bytes; the payload is written separately. */
export function encodeDataHeader(
  streamId: number,
  options: { length: number; flags?: number },
): Buffer {
  return encodeHeader({
    type: FrameType.Data,
    flags: options.flags ?? 0,
    streamId,
    length: options.length,
  });
}

/** Encodes a window update granting `delta` more bytes (flags may add SYN, ACK, FIN or RST). */
export function encodeWindowUpdate(
  streamId: number,
  options: { delta?: number; flags?: number } = {},
): Buffer {
  return encodeHeader({
    type: FrameType.WindowUpdate,
    flags: options.flags ?? 0,
    streamId,
    length: options.delta ?? 0,
  });
}

/** Encodes a ping request (SYN) or, with `ack`, the reply echoing `opaque`. */
export function encodePing(opaque: number, options: { ack?: boolean } = {}): Buffer {
  const flags = options.ack === true ? Flag.ACK : Flag.SYN;
  return encodeHeader({ type: FrameType.Ping, flags, streamId: 0, length: opaque >>> 0 });
}

/** Encodes a go-away frame with one of the {@link GoAwayCode} values. */
export function encodeGoAway(code: number): Buffer {
  return encodeHeader({ type: FrameType.GoAway, flags: 0, streamId: 0, length: code >>> 0 });
}

/** Encodes a whole frame as one buffer (copies the payload; meant for tests and small frames). */
export function encodeFrame(frame: Frame): Buffer {
  const out = Buffer.allocUnsafe(HEADER_SIZE + frame.payload.length);
  encodeHeader(
    { ...frame, length: frame.type === FrameType.Data ? frame.payload.length : frame.length },
    out,
  );
  frame.payload.copy(out, HEADER_SIZE);
  return out;
}

/**
 * Checks the fields of a decoded header against the rules of the specification and
 * returns the error to raise, or undefined when the header is valid.
 */
export function checkHeader(
  version: number,
  header: FrameHeader,
  maxFrameSize: number,
): PosternError | undefined {
  const { type, flags, streamId, length } = header;
  if (version !== PROTOCOL_VERSION) return ProtocolErrors.frameVersion(version);
  if (type > FrameType.GoAway) return ProtocolErrors.frameType(type);
  if ((flags & ~KNOWN_FLAGS) !== 0) return ProtocolErrors.frameFlags(type, flags);
  if (type === FrameType.Data || type === FrameType.WindowUpdate) {
    if (streamId === 0) return ProtocolErrors.frameStreamId(type, streamId);
    // A frame cannot both open a stream and acknowledge one.
    if ((flags & (Flag.SYN | Flag.ACK)) === (Flag.SYN | Flag.ACK)) {
      return ProtocolErrors.frameFlags(type, flags);
    }
    if (type === FrameType.Data && length > maxFrameSize) {
      return ProtocolErrors.frameTooLarge(length, maxFrameSize);
    }
    return undefined;
  }
  if (streamId !== 0) return ProtocolErrors.frameStreamId(type, streamId);
  if (type === FrameType.Ping) {
    // A ping is either a request (SYN) or a reply (ACK), nothing else.
    return flags === Flag.SYN || flags === Flag.ACK
      ? undefined
      : ProtocolErrors.frameFlags(type, flags);
  }
  return flags === 0 ? undefined : ProtocolErrors.frameFlags(type, flags);
}
