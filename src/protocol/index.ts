export { ProtocolErrors } from './errors.js';
export {
  HEADER_SIZE,
  PROTOCOL_VERSION,
  INITIAL_WINDOW,
  FrameType,
  Flag,
  GoAwayCode,
  encodeHeader,
  encodeDataHeader,
  encodeWindowUpdate,
  encodePing,
  encodeGoAway,
  encodeFrame,
  checkHeader,
} from './frame.js';
export type { FrameHeader, Frame } from './frame.js';
export { FrameDecoder, DEFAULT_MAX_FRAME_SIZE } from './frame-decoder.js';
export type { FrameHandler, FrameDecoderOptions, FrameDecoderState } from './frame-decoder.js';
// Control and dial messages (owned by the lead).
export * from './message-codec.js';
export * from './messages.js';
export * from './provisioning-key.js';
export { messageErrors } from './errors.js';
export * from './tunnel-tls.js';
