import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Clock } from '../core/index.js';
import type { Database } from './database.js';
import { StoreErrors } from './errors.js';
import { compact, num } from './row-mapping.js';
import { isForeignKeyViolation, isUniqueViolation } from './sql-errors.js';
import type {
  ConnectorGroupChanges,
  ConnectorGroupRecord,
  GroupRepository,
  NewConnectorGroup,
  Owner,
} from './store.js';

type GroupRow = Selectable<Database['connector_groups']>;

function toGroup(row: GroupRow): ConnectorGroupRecord {
  return {
    name: row.name,
    owner: row.owner as Owner,
    createdAt: num(row.created_at),
    ...compact({ description: row.description, autoDeleteAfterDays: row.auto_delete_after_days }),
  };
}

/** Connector groups in SQL tables shared by every backend. */
export class SqlGroupRepository implements GroupRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async create(group: NewConnectorGroup): Promise<ConnectorGroupRecord> {
    const row: Insertable<Database['connector_groups']> = {
      name: group.name,
      description: group.description ?? null,
      auto_delete_after_days: group.autoDeleteAfterDays ?? null,
      owner: group.owner ?? 'api',
      created_at: this.clock.now(),
    };
    try {
      return toGroup(
        await this.db
          .insertInto('connector_groups')
          .values(row)
          .returningAll()
          .executeTakeFirstOrThrow(),
      );
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      throw StoreErrors.conflict(
        `Connector group "${group.name}" already exists. Choose another name or use the existing group.`,
        err,
      );
    }
  }

  async get(name: string): Promise<ConnectorGroupRecord | undefined> {
    const row = await this.db
      .selectFrom('connector_groups')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return row && toGroup(row);
  }

  async list(): Promise<ConnectorGroupRecord[]> {
    const rows = await this.db.selectFrom('connector_groups').selectAll().orderBy('name').execute();
    return rows.map(toGroup);
  }

  async update(name: string, changes: ConnectorGroupChanges): Promise<ConnectorGroupRecord> {
    const set: { description?: string | null; auto_delete_after_days?: number | null } = {};
    if (changes.description !== undefined) set.description = changes.description;
    if (changes.autoDeleteAfterDays !== undefined) {
      set.auto_delete_after_days = changes.autoDeleteAfterDays;
    }
    const row =
      Object.keys(set).length === 0
        ? await this.db
            .selectFrom('connector_groups')
            .selectAll()
            .where('name', '=', name)
            .executeTakeFirst()
        : await this.db
            .updateTable('connector_groups')
            .set(set)
            .where('name', '=', name)
            .returningAll()
            .executeTakeFirst();
    if (row === undefined)
      throw StoreErrors.notFound('Connector group', name, 'postern groups list');
    return toGroup(row);
  }

  async delete(name: string): Promise<void> {
    try {
      await this.deleteWith(name);
    } catch (err) {
      // PostgreSQL: a connector enrolled into the group while it was being deleted.
      if (!isForeignKeyViolation(err)) throw err;
      throw StoreErrors.groupHasConnectors(name, [], err);
    }
  }

  private async deleteWith(name: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const live = await trx
        .selectFrom('connectors')
        .select('id')
        .where('group_name', '=', name)
        .where('revoked', '=', 0)
        .orderBy('id')
        .execute();
      const liveIds = live.map((c) => c.id);
      if (liveIds.length > 0) throw StoreErrors.groupHasConnectors(name, liveIds);
      // A revoked connector is kept only so that its certificate is refused; once its group is
      // gone an unknown connector is refused just the same, so its row goes with the group.
      // Only revoked ones: one enrolling meanwhile stays and fails the group's delete (FK).
      await trx
        .deleteFrom('connectors')
        .where('group_name', '=', name)
        .where('revoked', '=', 1)
        .execute();
      // Keys cannot outlive their group; deleting them here keeps this portable even where
      // ON DELETE CASCADE is not enforced (SQLite without PRAGMA foreign_keys).
      await trx.deleteFrom('provisioning_keys').where('group_name', '=', name).execute();
      const result = await trx
        .deleteFrom('connector_groups')
        .where('name', '=', name)
        .executeTakeFirst();
      if (result.numDeletedRows === 0n) {
        throw StoreErrors.notFound('Connector group', name, 'postern groups list');
      }
    });
  }
}
