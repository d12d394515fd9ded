import type { Kysely, Selectable } from 'kysely';
import type { Clock } from '../core/index.js';
import type { Database } from './database.js';
import { StoreErrors } from './errors.js';
import { num } from './row-mapping.js';
import { isUniqueViolation } from './sql-errors.js';
import type { JsonValue, NewStoredObject, ObjectRepository, Owner, StoredObject } from './store.js';

type ObjectRow = Selectable<Database['objects']>;

function toObject(row: ObjectRow): StoredObject {
  return {
    kind: row.kind,
    name: row.name,
    spec: JSON.parse(row.spec) as JsonValue,
    owner: row.owner as Owner,
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

function notFound(kind: string, name: string) {
  return StoreErrors.notFound(`Object ${kind}`, name, `postern ${kind.replaceAll('_', '-')}s list`);
}

/** Configuration objects (pools, virtual servers, …) in SQL tables shared by every backend. */
export class SqlObjectRepository implements ObjectRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async create(object: NewStoredObject): Promise<StoredObject> {
    const now = this.clock.now();
    const row = {
      kind: object.kind,
      name: object.name,
      spec: JSON.stringify(object.spec),
      owner: object.owner ?? 'api',
      created_at: now,
      updated_at: now,
    };
    try {
      return toObject(
        await this.db.insertInto('objects').values(row).returningAll().executeTakeFirstOrThrow(),
      );
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      throw StoreErrors.conflict(
        `A ${object.kind} named "${object.name}" already exists. Choose another name or update the existing one.`,
        err,
      );
    }
  }

  async get(kind: string, name: string): Promise<StoredObject | undefined> {
    const row = await this.db
      .selectFrom('objects')
      .selectAll()
      .where('kind', '=', kind)
      .where('name', '=', name)
      .executeTakeFirst();
    return row && toObject(row);
  }

  async list(
    filter: { readonly kind?: string; readonly owner?: Owner } = {},
  ): Promise<StoredObject[]> {
    let query = this.db.selectFrom('objects').selectAll();
    if (filter.kind !== undefined) query = query.where('kind', '=', filter.kind);
    if (filter.owner !== undefined) query = query.where('owner', '=', filter.owner);
    const rows = await query.orderBy('kind').orderBy('name').execute();
    return rows.map(toObject);
  }

  async update(kind: string, name: string, spec: JsonValue): Promise<StoredObject> {
    const row = await this.db
      .updateTable('objects')
      .set({ spec: JSON.stringify(spec), updated_at: this.clock.now() })
      .where('kind', '=', kind)
      .where('name', '=', name)
      .returningAll()
      .executeTakeFirst();
    if (row === undefined) throw notFound(kind, name);
    return toObject(row);
  }

  async delete(kind: string, name: string): Promise<void> {
    const result = await this.db
      .deleteFrom('objects')
      .where('kind', '=', kind)
      .where('name', '=', name)
      .executeTakeFirst();
    if (result.numDeletedRows === 0n) throw notFound(kind, name);
  }
}
