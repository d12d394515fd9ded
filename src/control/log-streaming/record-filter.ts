import type { DeepReadonly, LogReceiver, LogType } from '../../config/index.js';
import type { LogRecord, LogValue } from './log-types.js';

/** The part of a receiver's definition that decides which records it gets. */
export type ReceiverSelection = Pick<DeepReadonly<LogReceiver>, 'log_types' | 'filters'>;

/**
 * True when a receiver takes a record: its type is subscribed and every given filter lists the
 * record's value of that field. A record without the field passes that filter (an audit record
 * has no connector group), so filters narrow the records that carry the field.
 */
export function receiverAccepts(selection: ReceiverSelection, record: LogRecord): boolean {
  if (!selection.log_types.includes(record.type satisfies LogType)) return false;
  const { connector_groups, actions, outcomes } = selection.filters;
  return (
    fieldMatches(connector_groups, record['connector_group']) &&
    fieldMatches(actions, record['action']) &&
    fieldMatches(outcomes, record['outcome'])
  );
}

function fieldMatches(
  allowed: readonly string[] | undefined,
  value: LogValue | undefined,
): boolean {
  if (allowed === undefined || value === undefined || value === null) return true;
  return allowed.includes(String(value));
}
