/** Driver error codes for constraint violations, for SQLite (better-sqlite3) and PostgreSQL (pg). */
const uniqueCodes = new Set(['SQLITE_CONSTRAINT_PRIMARYKEY', 'SQLITE_CONSTRAINT_UNIQUE', '23505']);
const foreignKeyCodes = new Set(['SQLITE_CONSTRAINT_FOREIGNKEY', '23503']);

function codeOf(err: unknown): unknown {
  return typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
}

/** True when a write failed because a primary key or unique value is already taken. */
export function isUniqueViolation(err: unknown): boolean {
  return uniqueCodes.has(codeOf(err) as string);
}

/** True when a write failed because a referenced row does not exist (or is still referenced). */
export function isForeignKeyViolation(err: unknown): boolean {
  return foreignKeyCodes.has(codeOf(err) as string);
}
