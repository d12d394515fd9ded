import { PosternError } from '../core/index.js';

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
