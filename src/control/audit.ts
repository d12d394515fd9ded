import type { Logger } from 'pino';
import type { AuditRecord, JsonValue, NewAuditRecord, Store } from '../store/index.js';

/** Called with every audit record once it is stored (e.g. to stream it to a log receiver). */
export type AuditHook = (record: AuditRecord) => void;

/** What an audit record shows instead of a secret. */
export const REDACTED = '[redacted]';

/**
 * Field names whose values are secrets wherever they appear: provisioning key and admin token
 * values, private keys of certificates and log receivers, passwords.
 */
const SECRET_FIELD = /secret|password|passphrase|private_?key|^key$|^token$/i;

/** A deep copy of `value` with every secret field's value replaced by `[redacted]`. */
export function redactSecrets(value: unknown): JsonValue | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v) ?? null);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === undefined) continue;
      out[k] =
        SECRET_FIELD.test(k) && v !== null && typeof v !== 'boolean'
          ? REDACTED
          : (redactSecrets(v) ?? null);
    }
    return out;
  }
  return value as JsonValue;
}

/**
 * The audit log: redacts, stores and announces each record. A record that cannot be stored is
 * logged with its error; the change it describes has already happened.
 */
export class AuditLog {
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #hook: AuditHook | undefined;

  constructor(options: { store: Store; logger: Logger; onAudit?: AuditHook | undefined }) {
    this.#store = options.store;
    this.#logger = options.logger;
    this.#hook = options.onAudit;
  }

  /** Stores one record (before and after redacted) and passes the stored record to `onAudit`. */
  async record(input: NewAuditRecord): Promise<AuditRecord | undefined> {
    const before = redactSecrets(input.before);
    const after = redactSecrets(input.after);
    const { before: _b, after: _a, ...rest } = input;
    let stored: AuditRecord;
    try {
      stored = await this.#store.audit.append({
        ...rest,
        ...(before === undefined ? {} : { before }),
        ...(after === undefined ? {} : { after }),
      });
    } catch (err) {
      this.#logger.error({ err, audit: rest }, 'audit record could not be stored');
      return undefined;
    }
    try {
      this.#hook?.(stored);
    } catch (err) {
      this.#logger.warn({ err }, 'onAudit hook failed');
    }
    return stored;
  }
}
