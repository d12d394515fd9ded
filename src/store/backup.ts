/**
 * Backup documents: the whole store as one JSON document, restorable into either backend.
 *
 * What a backup holds: connector groups, provisioning keys (their secret hashes, never the
 * secrets), connectors, settings, configuration objects, admin tokens (hashes only) and the
 * audit log (secrets already redacted), with counters, revocations and times as stored. What
 * it never holds: the enrollment CA's key pair, the user-token signing key and the bootstrap
 * admin token, which live as files in the edge's data directory (`ca.crt`, `ca.key`,
 * `token-signing-key.pem`, `admin-token`; never in the store, so never in PostgreSQL in plain
 * text); back those files up separately and keep them secret. Configuration objects are
 * copied as stored, so a `certificate` object created through the admin API carries its TLS key;
 * certificates from configuration documents should use `valueFrom` file references instead.
 * Browser sessions and pending logins are left out on purpose: they are ephemeral, and a
 * restore with `replace` deletes them, so everyone logs in again after a restore.
 * Connector tunnels (which edge holds which connector's tunnel) are left out too: they are
 * runtime state the running edges write as tunnels come and go, and a restore leaves them as
 * they are, since they describe the live tunnels, not the restored data.
 */
import { z } from 'zod';
import { StoreErrors } from './errors.js';
import { migrationNames } from './migrations.js';
import type { Store, StoreSnapshot } from './store.js';

/** The `format` marker of every backup document. */
export const BACKUP_FORMAT = 'postern-backup';
/** The document version this build writes; it reads this one and older ones. */
export const BACKUP_VERSION = 2;

const ms = z.number().int().nonnegative();
const owner = z.union([z.literal('api'), z.templateLiteral(['document:', z.string()])]);
const json: z.ZodType<unknown> = z.json();

const snapshotSchema = z.strictObject({
  groups: z.array(
    z.strictObject({
      name: z.string().min(1),
      description: z.string().optional(),
      autoDeleteAfterDays: z.number().int().optional(),
      owner,
      createdAt: ms,
    }),
  ),
  provisioningKeys: z.array(
    z.strictObject({
      id: z.string().min(1),
      group: z.string().min(1),
      secretHash: z.string().min(1),
      maxUsage: z.number().int().min(1),
      usageCount: z.number().int().nonnegative(),
      expiresAt: ms.optional(),
      sourceCidrs: z.array(z.string()).optional(),
      enabled: z.boolean(),
      revoked: z.boolean(),
      revokedAt: ms.optional(),
      createdAt: ms,
    }),
  ),
  connectors: z.array(
    z.strictObject({
      id: z.string().min(1),
      group: z.string().min(1),
      keyId: z.string().min(1),
      ephemeral: z.boolean(),
      certSerial: z.string(),
      certNotAfter: ms,
      createdAt: ms,
      lastSeenAt: ms.optional(),
      version: z.string().optional(),
      privateIp: z.string().optional(),
      publicIp: z.string().optional(),
      revoked: z.boolean(),
      revokedAt: ms.optional(),
      // An admin's drain (migration 0007) is operator intent, so it is kept across a restore.
      drainingSince: ms.optional(),
    }),
  ),
  settings: z.array(z.strictObject({ name: z.string().min(1), value: json, updatedAt: ms })),
  objects: z.array(
    z.strictObject({
      kind: z.string().min(1),
      name: z.string().min(1),
      spec: json,
      owner,
      createdAt: ms,
      updatedAt: ms,
    }),
  ),
  // Added in version 2; a version 1 backup has neither and restores with none.
  adminTokens: z
    .array(
      z.strictObject({
        id: z.string().min(1),
        name: z.string().min(1),
        role: z.enum(['admin', 'operator', 'viewer']),
        secretHash: z.string().min(1),
        createdAt: ms,
        lastUsedAt: ms.optional(),
        expiresAt: ms.optional(),
        revoked: z.boolean(),
        revokedAt: ms.optional(),
      }),
    )
    .default([]),
  auditLog: z
    .array(
      z.strictObject({
        id: z.string().min(1),
        at: ms,
        actor: z.string(),
        method: z.string(),
        path: z.string(),
        kind: z.string().optional(),
        name: z.string().optional(),
        before: json.optional(),
        after: json.optional(),
        outcome: z.enum(['success', 'failure']),
        status: z.number().int(),
        errorCode: z.string().optional(),
        /** Since schema 0012-audit-source; older backups have none. */
        source: z.string().optional(),
      }),
    )
    .default([]),
});

const documentSchema = z.strictObject({
  format: z.literal(BACKUP_FORMAT),
  version: z.number().int().min(1),
  createdAt: z.iso.datetime(),
  /** The last migration of the store that wrote it: a newer schema cannot be restored here. */
  schema: z.string(),
  state: snapshotSchema,
});

/** A backup document as written to the backup file. */
export interface BackupDocument {
  readonly format: typeof BACKUP_FORMAT;
  readonly version: number;
  readonly createdAt: string;
  readonly schema: string;
  readonly state: StoreSnapshot;
}

/** Reads the whole store (one consistent snapshot) into a backup document. */
export async function exportState(
  store: Store,
  options: { readonly now?: number } = {},
): Promise<BackupDocument> {
  const state = await store.snapshot.read();
  return {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    createdAt: new Date(options.now ?? Date.now()).toISOString(),
    schema: migrationNames[migrationNames.length - 1] ?? '',
    state,
  };
}

/** Checks that `input` is a backup document this build can restore; POSTERN_ERR_BACKUP_INVALID if not. */
export function parseBackup(input: unknown): BackupDocument {
  const result = documentSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(document)'}: ${i.message}`)
      .join('; ');
    throw StoreErrors.backupInvalid(`it is not a Postern backup document (${problems})`);
  }
  const doc = result.data;
  if (doc.version > BACKUP_VERSION) {
    throw StoreErrors.backupInvalid(
      `it has format version ${doc.version}, newer than this build's ${BACKUP_VERSION}`,
    );
  }
  if (doc.schema !== '' && !migrationNames.includes(doc.schema)) {
    throw StoreErrors.backupInvalid(`it was written with store schema ${doc.schema}, unknown here`);
  }
  return doc as BackupDocument;
}

/**
 * Restores a backup document (validated first) into `store`: refused with
 * POSTERN_ERR_RESTORE_NOT_EMPTY unless the store is empty or `force` is set, in which case the
 * store's whole content is replaced in one transaction.
 */
export async function importState(
  store: Store,
  input: unknown,
  options: { readonly force?: boolean } = {},
): Promise<void> {
  const doc = parseBackup(input);
  await store.snapshot.write(doc.state, { replace: options.force === true });
}
