/**
 * Physical purge of the embedded event store. DuckDB never zeroes freed blocks and does not rewrite a row
 * group when a few of its rows are deleted, so an erased shopper's pseudonyms stay as bytes in the file
 * while other shoppers' events share their row groups. Only a fresh copy of the database removes them:
 * `COPY FROM DATABASE` into a temporary file next to the old one, a row-count check, then an atomic rename.
 *
 * Crash safety: until the rename the old file is complete and checkpointed (its WAL is empty), so a crash
 * leaves it as it was plus a leftover temporary file, which the next open removes. After the rename the
 * new file is complete (written, checkpointed by DETACH and fsynced). Nothing in between is ever visible.
 *
 * While a purge runs, queries and appends wait: queries through a gate in front of the Kysely driver
 * (`createGatedDialect`), appends through the store's own mutex.
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type {
  DatabaseConnection,
  DatabaseIntrospector,
  Dialect,
  DialectAdapter,
  Driver,
  Kysely,
  QueryCompiler,
  TransactionSettings,
} from 'kysely';
import { AppError } from '../../../kernel/errors.ts';
import type { PurgeResult } from '../../ports.ts';
import { DuckDbDialect } from './duckdb.dialect.ts';

export type { PurgeResult };

/** The temporary copy a purge writes; a leftover one (crash mid-purge) is removed on open. */
export function rewriteTempFile(file: string): string {
  return `${file}.purge-tmp`;
}

/** Removes what a purge interrupted by a crash left behind; the database file itself is always complete. */
export function removeLeftoverRewrite(file: string): void {
  const tmp = rewriteTempFile(file);
  rmSync(tmp, { force: true });
  rmSync(`${tmp}.wal`, { force: true });
}

/** Bytes on disk of a DuckDB file and its WAL. */
export function duckDbFileBytes(file: string): number {
  let total = 0;
  for (const f of [file, `${file}.wal`]) if (existsSync(f)) total += statSync(f).size;
  return total;
}

function fsyncPath(p: string): void {
  const fd = openSync(p, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;
const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;

async function scalar(conn: DuckDBConnection, query: string): Promise<unknown> {
  const reader = await conn.runAndReadAll(query);
  return reader.getRows()[0]?.[0];
}

/**
 * Writes a fresh copy of the database `conn` is attached to into `rewriteTempFile(file)`, checks that every
 * table has the same number of rows, and leaves the copy detached and fsynced. The caller holds the store
 * exclusively (nothing writes meanwhile). On failure the copy is removed and the old file is untouched.
 */
export async function writeFreshCopy(conn: DuckDBConnection, file: string): Promise<void> {
  const tmp = rewriteTempFile(file);
  removeLeftoverRewrite(file);
  const source = String(await scalar(conn, 'SELECT current_database()'));
  const alias = 'candor_purge_fresh';
  let attached = false;
  try {
    // The WAL goes into the file first, so the copy reads a checkpointed database.
    await conn.run('FORCE CHECKPOINT');
    await conn.run(`ATTACH ${quote(tmp)} AS ${alias}`);
    attached = true;
    await conn.run(`COPY FROM DATABASE ${ident(source)} TO ${alias}`);
    const tables = (
      await conn.runAndReadAll(
        `SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ${quote(source)} AND NOT temporary`,
      )
    ).getRows();
    for (const [schema, table] of tables) {
      const name = `${ident(String(schema))}.${ident(String(table))}`;
      const before = Number(await scalar(conn, `SELECT count(*) FROM ${ident(source)}.${name}`));
      const after = Number(await scalar(conn, `SELECT count(*) FROM ${alias}.${name}`));
      if (before !== after)
        throw new AppError(
          'store_error',
          `The purge copy of ${String(table)} has ${after} rows instead of ${before}; the event store was left as it was. Run the purge again.`,
        );
    }
    await conn.run(`DETACH ${alias}`);
    attached = false;
    fsyncPath(tmp);
  } catch (error) {
    if (attached) await conn.run(`DETACH ${alias}`).catch(() => undefined);
    removeLeftoverRewrite(file);
    throw error;
  }
}

/**
 * Puts the fresh copy in place of the closed database: the old (checkpointed, closed) file's WAL goes
 * first so it can never be replayed onto the new file, then one atomic rename, then the directory is
 * fsynced so the rename survives a power cut.
 */
export function swapInFreshCopy(file: string): void {
  const tmp = rewriteTempFile(file);
  rmSync(`${tmp}.wal`, { force: true });
  rmSync(`${file}.wal`, { force: true });
  renameSync(tmp, file);
  try {
    fsyncPath(path.dirname(file));
  } catch {
    // Some platforms cannot open a directory for fsync; the rename itself is still atomic.
  }
}

/**
 * A readers-writer gate: queries share it; a purge takes it alone once running queries finish. `ready`,
 * when given, is awaited by every query before it enters (the store's accepted events).
 */
export function createGate(ready?: () => Promise<void>) {
  let active = 0;
  let writer: Promise<void> | null = null;
  let drained: (() => void) | null = null;
  return {
    async enter(): Promise<void> {
      if (ready) await ready();
      while (writer) await writer;
      active++;
    },
    leave(): void {
      active--;
      if (active === 0 && drained) drained();
    },
    async alone<T>(fn: () => Promise<T>): Promise<T> {
      while (writer) await writer;
      let release!: () => void;
      writer = new Promise<void>((r) => (release = r));
      try {
        if (active > 0) await new Promise<void>((r) => (drained = r));
        drained = null;
        return await fn();
      } finally {
        writer = null;
        release();
      }
    },
  };
}

export type Gate = ReturnType<typeof createGate>;

/** The Kysely driver in front of the DuckDB one: waits at the gate and can move to a reopened instance. */
class GatedDriver implements Driver {
  readonly #gate: Gate;
  #inner: Driver;
  #initialised = false;

  constructor(gate: Gate, instance: DuckDBInstance) {
    this.#gate = gate;
    this.#inner = new DuckDbDialect(instance).createDriver();
  }

  async init(): Promise<void> {
    await this.#inner.init();
    this.#initialised = true;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#gate.enter();
    try {
      return await this.#inner.acquireConnection();
    } catch (error) {
      this.#gate.leave();
      throw error;
    }
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await this.#inner.beginTransaction(connection, settings);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#inner.commitTransaction(connection);
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#inner.rollbackTransaction(connection);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    try {
      await this.#inner.releaseConnection(connection);
    } finally {
      this.#gate.leave();
    }
  }

  /** Closes every connection to the current instance (call inside `gate.alone`). */
  async detach(): Promise<void> {
    await this.#inner.destroy();
  }

  /** Serves later queries from `instance` (call inside `gate.alone`, after `detach`). */
  async attach(instance: DuckDBInstance): Promise<void> {
    this.#inner = new DuckDbDialect(instance).createDriver();
    if (this.#initialised) await this.#inner.init();
  }

  async destroy(): Promise<void> {
    await this.#inner.destroy();
  }
}

/** A DuckDB Kysely dialect whose connections wait at `gate` and can be moved to a reopened instance. */
export function createGatedDialect(gate: Gate, instance: DuckDBInstance) {
  const driver = new GatedDriver(gate, instance);
  const base = new DuckDbDialect(instance);
  const dialect: Dialect = {
    createAdapter: (): DialectAdapter => base.createAdapter(),
    createDriver: (): Driver => driver,
    createQueryCompiler: (): QueryCompiler => base.createQueryCompiler(),
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely's signature
    createIntrospector: (db: Kysely<any>): DatabaseIntrospector => base.createIntrospector(db),
  };
  return {
    dialect,
    detach: () => driver.detach(),
    attach: (next: DuckDBInstance) => driver.attach(next),
  };
}
