/** Converts an integer column (number from SQLite, text for PostgreSQL int8) to a number. */
export function num(value: number | string): number {
  return typeof value === 'number' ? value : Number(value);
}

/**
 * Builds an object without the entries whose value is null or undefined, so optional record
 * fields are absent rather than undefined (exactOptionalPropertyTypes).
 */
export function compact<T extends Record<string, unknown>>(
  entries: T,
): { [K in keyof T]?: Exclude<T[K], null | undefined> } {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entries)) {
    if (value !== null && value !== undefined) out[key] = value;
  }
  return out as { [K in keyof T]?: Exclude<T[K], null | undefined> };
}

/** A nullable int8 column as an optional number. */
export function optNum(value: number | string | null): number | undefined {
  return value === null ? undefined : num(value);
}
