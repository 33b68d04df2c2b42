/**
 * The embedded state store: one SQLite file through better-sqlite3. WAL for concurrent readers,
 * synchronous=FULL so an acknowledged write survives SIGKILL and power loss, a busy timeout so a second
 * connection waits instead of failing, and foreign keys enforced.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { Kysely, sql, type SqliteDatabase } from 'kysely';
import { AppError } from '../../../kernel/errors.ts';
import { runMigrations } from '../../migrate.ts';
import type { BackgroundWrites, StateStore } from '../../ports.ts';
import { CandorSqliteDialect } from './sqlite.dialect.ts';

export type SqliteStateStoreOptions = {
  file: string;
  /** How long a write waits for another connection's lock, in ms. */
  busyTimeoutMs?: number;
};

/** Distinct SQL texts whose prepared statements are kept (queries are built from a few hundred shapes). */
const STATEMENT_CACHE_SIZE = 500;

/**
 * The database as Kysely sees it, with prepared statements reused by SQL text: preparing costs more
 * than running most of our small queries. Safe because Kysely runs one query at a time on the one
 * connection (a streamed query holds it until the stream ends), so a cached statement is never busy.
 */
function withStatementCache(raw: Database.Database): SqliteDatabase {
  const statements = new Map<string, Database.Statement>();
  return {
    prepare(sql) {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = raw.prepare(sql);
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
        statements.set(sql, statement);
      }
      return statement;
    },
    close() {
      statements.clear();
      raw.close();
    },
  };
}

/**
 * The background writer: a worker thread with its own connection (sqlite.writer.worker.ts), started on
 * first use. Jobs run in the order given. While it writes, a write on the main connection waits for its
 * lock (busy timeout) for at most one of its statements; reads never wait (WAL).
 */
function createBackgroundWrites(file: string, busyTimeoutMs: number) {
  let worker: Worker | null = null;
  let nextId = 0;
  const waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  const inFlight = new Set<Promise<void>>();
  const failAll = (e: Error) => {
    for (const w of waiting.values()) w.reject(e);
    waiting.clear();
    worker = null;
  };
  function start(): Worker {
    const w = new Worker(new URL('./sqlite.writer.worker.ts', import.meta.url), {
      workerData: { file, busyTimeoutMs },
    });
    // Idle, it does not keep the process alive; `close` ends it.
    w.unref();
    w.on('message', (m: { id: number; ok: boolean; message?: string }) => {
      const job = waiting.get(m.id);
      waiting.delete(m.id);
      if (waiting.size === 0) w.unref();
      if (m.ok) job?.resolve();
      else
        job?.reject(
          new AppError('store_error', `A background write failed: ${m.message ?? 'unknown error'}`),
        );
    });
    w.on('error', (e: Error) =>
      failAll(new AppError('store_error', `The background writer stopped: ${e.message}`)),
    );
    w.on('exit', () => failAll(new AppError('store_error', 'The background writer stopped.')));
    return w;
  }
  const writes: BackgroundWrites = {
    run(queries) {
      if (queries.length === 0) return Promise.resolve();
      worker ??= start();
      const id = nextId++;
      const job = { id, queries: queries.map((q) => ({ sql: q.sql, parameters: [...q.parameters] })) };
      const done = new Promise<void>((resolve, reject) => waiting.set(id, { resolve, reject }));
      const tracked = done.then(
        () => undefined,
        () => undefined,
      );
      inFlight.add(tracked);
      void tracked.finally(() => inFlight.delete(tracked));
      worker.ref();
      worker.postMessage(job);
      return done;
    },
  };
  return {
    writes,
    /** Waits for the writes in flight, then ends the thread. */
    async close(): Promise<void> {
      await Promise.all([...inFlight]);
      const w = worker;
      if (!w) return;
      const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      w.postMessage('close');
      await exited;
    },
  };
}

export async function openSqliteStateStore(options: SqliteStateStoreOptions): Promise<StateStore> {
  mkdirSync(path.dirname(path.resolve(options.file)), { recursive: true });
  let raw: Database.Database;
  try {
    raw = new Database(options.file);
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = FULL');
    raw.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
    raw.pragma('foreign_keys = ON');
    // Overwrite the bytes of every deleted or replaced row, from the first write on: an erased shopper's
    // pseudonym must not survive in a free page left by an update made before the erasure.
    raw.pragma('secure_delete = ON');
  } catch (cause) {
    throw new AppError(
      'store_error',
      `Cannot open the state store ${options.file}: ${(cause as Error).message}. Check that the data directory is writable.`,
      { cause },
    );
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each module types its own tables
  const db = new Kysely<any>({ dialect: new CandorSqliteDialect({ database: withStatementCache(raw) }) });
  let closed = false;
  const background = createBackgroundWrites(
    path.resolve(options.file),
    Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000)),
  );

  return {
    dialect: 'sqlite',
    db,
    backgroundWrites: background.writes,
    transaction: (fn) => db.transaction().execute(fn),
    migrate: (migrations) =>
      // One immediate transaction: a second process waits for the first and then finds nothing to do.
      db.transaction().execute((trx) => runMigrations({ db: trx, migrations })),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await background.close();
      await db.destroy();
    },
  };
}
