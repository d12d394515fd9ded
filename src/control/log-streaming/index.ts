export { LogStreamingService } from './log-streaming-service.js';
export type { LogPublisher, LogStreamingOptions } from './log-streaming-service.js';
export type { LogFields, LogRecord, LogValue } from './log-types.js';
export { csvColumns } from './log-types.js';
export { csvHeader, csvField, formatRecord } from './record-format.js';
export type { LogFormat } from './record-format.js';
export type { ReceiverBacklog } from './log-stream-metrics.js';
export type { ReceiverSpec } from './receiver-sink.js';
export { logStreamErrors } from './errors.js';
