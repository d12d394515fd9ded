export { MuxSession } from './session.js';
export { MuxStream } from './stream.js';
export type { MuxStreamStats } from './stream.js';
export type { SessionOptions, TransportReads, TunnelLogger } from './options.js';
export { TunnelErrors } from './errors.js';
// Message framing over a stream (message-channel.ts, owned by the lead).
export { readMessage, writeMessage, MessageChannel } from './message-channel.js';
