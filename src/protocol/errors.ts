import { PosternError } from '../core/index.js';

const peerHint =
  'The peer is not speaking the yamux framing Postern expects (wrong port, a proxy that rewrites bytes, or an incompatible version); check that both sides are Postern or yamux peers.';

/** Errors raised by the frame codec when the byte stream is not valid yamux framing. */
export const ProtocolErrors = {
  frameVersion: (version: number) =>
    new PosternError(
      'POSTERN_ERR_FRAME_VERSION',
      `A tunnel frame has version ${version}; only version 0 exists. ${peerHint}`,
    ),
  frameType: (type: number) =>
    new PosternError(
      'POSTERN_ERR_FRAME_TYPE',
      `A tunnel frame has unknown type ${type} (0-3 are defined). ${peerHint}`,
    ),
  frameFlags: (type: number, flags: number) =>
    new PosternError(
      'POSTERN_ERR_FRAME_FLAGS',
      `A tunnel frame of type ${type} has an invalid flag combination 0x${flags.toString(16)}. ${peerHint}`,
    ),
  frameStreamId: (type: number, streamId: number) =>
    new PosternError(
      'POSTERN_ERR_FRAME_STREAM_ID',
      `A tunnel frame of type ${type} carries stream id ${streamId}, which that type does not allow (data and window updates need a non-zero id, ping and go-away need 0). ${peerHint}`,
    ),
  frameTooLarge: (length: number, max: number) =>
    new PosternError(
      'POSTERN_ERR_FRAME_TOO_LARGE',
      `A tunnel data frame of ${length} bytes exceeds the limit of ${max} bytes. Raise maxFrameSize on this side, or lower the peer's window so it sends smaller frames.`,
    ),
} as const;

/** Errors of the control/dial message layer. */
export const messageErrors = {
  tooLarge: (size: number, max: number) =>
    new PosternError(
      'POSTERN_ERR_MESSAGE_TOO_LARGE',
      `A tunnel message of ${size} bytes exceeds the limit of ${max} bytes. The peer is misbehaving or runs an incompatible version; upgrade both sides to the same release.`,
    ),
  malformed: (why: string, cause?: unknown) =>
    new PosternError(
      'POSTERN_ERR_MESSAGE_MALFORMED',
      `A tunnel message could not be decoded (${why}). The peer is misbehaving or runs an incompatible version.`,
      { cause },
    ),
  decoderFailed: () =>
    new PosternError(
      'POSTERN_ERR_MESSAGE_MALFORMED',
      'The message decoder already failed on earlier input; the stream must be closed.',
    ),
  invalid: (type: string, problems: string) =>
    new PosternError(
      'POSTERN_ERR_MESSAGE_INVALID',
      `A "${type}" message has invalid fields: ${problems}. The peer runs an incompatible version; upgrade both sides to the same release.`,
    ),
  unsupportedVersion: (version: unknown) =>
    new PosternError(
      'POSTERN_ERR_MESSAGE_VERSION',
      `The peer speaks message version ${String(version)}, this side speaks version 1. Upgrade the older side.`,
    ),
  badProvisioningKey: (why: string) =>
    new PosternError(
      'POSTERN_ERR_KEY_MALFORMED',
      `The provisioning key is malformed: ${why}. Copy the whole value printed by \`postern keys create\`, e.g. "1|edge.example.com:8443|<id>.<secret>".`,
    ),
  peerError: (code: string, message: string) =>
    new PosternError(code.startsWith('POSTERN_ERR_') ? code : 'POSTERN_ERR_PEER', message),
} as const;
