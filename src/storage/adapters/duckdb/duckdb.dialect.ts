/**
 * A small Kysely dialect for DuckDB over @duckdb/node-api. DuckDB speaks PostgreSQL-flavoured SQL with `$1`
 * parameters, so Kysely's PostgreSQL query compiler and adapter are reused; only the driver is ours. Values
 * cross the boundary as plain JS: Date parameters become TIMESTAMP (UTC), safe BIGINT results become numbers.
 */
import {
  DuckDBBlobValue,
  DuckDBTimestampValue,
  type DuckDBConnection,
  type DuckDBInstance,
  type DuckDBValue,
} from '@duckdb/node-api';
import {
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
} from 'kysely';

/** JS parameter → DuckDB value. */
export function toDuckDbValue(value: unknown): DuckDBValue {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return new DuckDBTimestampValue(BigInt(value.getTime()) * 1000n);
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value;
  }
  if (value instanceof Uint8Array) return new DuckDBBlobValue(value);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return value as DuckDBValue;
}

/** DuckDB result value → plain JS (BIGINT/HUGEINT as number when it fits exactly). */
function fromDuckDb(value: unknown): unknown {
  if (
    typeof value === 'bigint' &&
    value >= BigInt(Number.MIN_SAFE_INTEGER) &&
    value <= BigInt(Number.MAX_SAFE_INTEGER)
  ) {
    return Number(value);
  }
  return value;
}

const WRITE_STATEMENT = /^\s*(with\b[\s\S]*\b)?(insert|update|delete)\b/i;

class DuckDbKyselyConnection implements DatabaseConnection {
  readonly connection: DuckDBConnection;
  constructor(connection: DuckDBConnection) {
    this.connection = connection;
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const params = compiled.parameters.map(toDuckDbValue);
    const reader = await this.connection.runAndReadAll(compiled.sql, params.length > 0 ? params : undefined);
    const rows = reader.getRowObjectsJS().map((row) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(row)) out[k] = fromDuckDb(v);
      return out as R;
    });
    if (WRITE_STATEMENT.test(compiled.sql)) {
      return { rows, numAffectedRows: BigInt(reader.rowsChanged) };
    }
    return { rows };
  }

  async *streamQuery<R>(compiled: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    // Results are materialised by DuckDB in columnar chunks; handing them out in one piece is the simplest
    // correct stream for the analytical result sizes Candor produces.
    yield await this.executeQuery<R>(compiled);
  }
}

class DuckDbDriver implements Driver {
  readonly #instance: DuckDBInstance;
  readonly #idle: DuckDbKyselyConnection[] = [];
  readonly #all: DuckDbKyselyConnection[] = [];

  constructor(instance: DuckDBInstance) {
    this.#instance = instance;
  }

  async init(): Promise<void> {}

  // DuckDB runs concurrent connections on one instance with MVCC; each Kysely connection (and so each
  // transaction) gets its own, reused afterwards.
  async acquireConnection(): Promise<DatabaseConnection> {
    const idle = this.#idle.pop();
    if (idle) return idle;
    const connection = new DuckDbKyselyConnection(await this.#instance.connect());
    this.#all.push(connection);
    return connection;
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin transaction'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    this.#idle.push(connection as DuckDbKyselyConnection);
  }

  async destroy(): Promise<void> {
    for (const c of this.#all) c.connection.closeSync();
    this.#all.length = 0;
    this.#idle.length = 0;
  }
}

/** One process owns a DuckDB file, so the migration lock is the process itself. */
class DuckDbAdapter extends PostgresAdapter {
  override async acquireMigrationLock(): Promise<void> {}
  override async releaseMigrationLock(): Promise<void> {}
}

export class DuckDbDialect implements Dialect {
  readonly #instance: DuckDBInstance;
  constructor(instance: DuckDBInstance) {
    this.#instance = instance;
  }
  createAdapter(): DialectAdapter {
    return new DuckDbAdapter();
  }
  createDriver(): Driver {
    return new DuckDbDriver(this.#instance);
  }
  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely's signature
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }
}
