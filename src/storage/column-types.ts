/**
 * Portable state-store columns. Every module declares its tables with these names so one migration runs
 * unchanged on SQLite and PostgreSQL: timestamps are epoch ms (bigint), JSON is text, booleans are integer
 * 0/1, binary is blob/bytea.
 */
import { SqliteAdapter, type Kysely } from 'kysely';
import type { StateDialect, StateStore } from './ports.ts';

export type ColumnTypes = {
  readonly blob: 'blob' | 'bytea';
  readonly json: 'text';
  readonly ts: 'bigint';
  readonly bool: 'integer';
  readonly bigint: 'bigint';
  readonly text: 'text';
  readonly real: 'real' | 'double precision';
};

const SQLITE: ColumnTypes = {
  blob: 'blob',
  json: 'text',
  ts: 'bigint',
  bool: 'integer',
  bigint: 'bigint',
  text: 'text',
  real: 'real',
};

const POSTGRES: ColumnTypes = {
  blob: 'bytea',
  json: 'text',
  ts: 'bigint',
  bool: 'integer',
  bigint: 'bigint',
  text: 'text',
  real: 'double precision',
};

/** SQL type names for the portable column kinds on a state dialect. */
export function columnTypes(dialect: StateDialect): ColumnTypes {
  return dialect === 'sqlite' ? SQLITE : POSTGRES;
}

/**
 * A typed view of the state store's Kysely instance. The port is untyped because every module owns its own
 * tables; a module narrows it to its table interfaces here.
 */
export function tablesOf<T>(store: StateStore): Kysely<T> {
  return store.db as Kysely<T>;
}

/**
 * The dialect behind a Kysely instance (or transaction). Migrations receive only `db`, so this is how one
 * migration picks `columnTypes` for the store it runs on.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- works for any table shape
export function stateDialectOf(db: Kysely<any>): StateDialect {
  return db.getExecutor().adapter instanceof SqliteAdapter ? 'sqlite' : 'postgres';
}
