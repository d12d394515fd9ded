import type { LogType } from '../../config/index.js';
import { csvColumns, type LogValue } from './log-types.js';

/** A receiver's wire format. */
export type LogFormat = 'json' | 'csv';

/** The first line of every CSV connection: the column names of the receiver's log type. */
export function csvHeader(type: LogType): string {
  return `${csvColumns[type].map(csvField).join(',')}\n`;
}

/**
 * One queued record (its JSON text) as the receiver reads it: the JSON text itself and a
 * newline, or a CSV row of the type's columns (fields it lacks are empty, others are left out).
 */
export function formatRecord(format: LogFormat, json: string): string {
  if (format === 'json') return `${json}\n`;
  const record = JSON.parse(json) as Record<string, LogValue> & { type: LogType };
  return `${csvColumns[record.type].map((c) => csvField(record[c])).join(',')}\n`;
}

/**
 * A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break, with quotes
 * doubled; null and missing values are empty.
 */
export function csvField(value: LogValue | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
