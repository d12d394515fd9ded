import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Clock } from '../core/index.js';
import type { Database } from './database.js';
import { StoreErrors } from './errors.js';
import { compact, num } from './row-mapping.js';
import { isUniqueViolation } from './sql-errors.js';
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
    await this.db.transaction().execute(async (trx) => {
      const { count } = await trx
        .selectFrom('connectors')
        .select((eb) => eb.fn.countAll<number | string>().as('count'))
        .where('group_name', '=', name)
        .executeTakeFirstOrThrow();
      if (num(count) > 0) {
        throw StoreErrors.conflict(
          `Connector group "${name}" still has ${num(count)} connector(s). Delete them first ` +
            `(\`postern connectors list --group ${name}\`, then \`postern connectors delete <id>\`).`,
        );
      }
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
