/**
 * The server-mode event store: PostgreSQL, `events` partitioned by RANGE(ts) per calendar month (UTC).
 * Partitions are created on demand under an advisory lock, so concurrent writers never race on DDL.
 * A partitioned table cannot enforce uniqueness of event_id alone, so a small `event_ids` table does:
 * one statement inserts the new ids and, for exactly those, the rows (idempotent, atomic).
 */
import { Kysely, PostgresDialect, sql } from 'kysely';
import type pg from 'pg';
import { AppError } from '../../../kernel/errors.ts';
import { EVENT_COLUMNS, checkEventRecord, eventFromRow } from '../../event-columns.ts';
import type { AppendResult, EventRecord, EventStore, EventTables } from '../../ports.ts';
import { openPool } from './postgres.pool.ts';

export type PostgresEventStoreOptions = { url: string; schema?: string; maxConnections?: number };

const SQL_TYPE = { text: 'text', ts: 'timestamptz', double: 'double precision', integer: 'integer' } as const;
const ARRAY_TYPE = { text: 'text[]', ts: 'bigint[]', double: 'float8[]', integer: 'int4[]' } as const;
const COLUMN_LIST = EVENT_COLUMNS.map((c) => c.column).join(', ');

/** Advisory lock keys (arbitrary constants) for schema and partition DDL. */
const DDL_LOCK = 7_241_503_118;

/** Rows per INSERT statement: large enough to amortise round trips, small enough to bound memory. */
const CHUNK = 10_000;

function monthStart(ms: number): Date {
  const d = new Date(ms);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
}

function partitionName(start: Date): string {
  return `events_p${start.getUTCFullYear()}${String(start.getUTCMonth() + 1).padStart(2, '0')}`;
}

async function withDdlLock(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<void>): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK]);
    await fn(client);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

export async function openPostgresEventStore(options: PostgresEventStoreOptions): Promise<EventStore> {
  const pool = await openPool({
    url: options.url,
    ...(options.schema ? { schema: options.schema } : {}),
    ...(options.maxConnections ? { max: options.maxConnections } : {}),
  });
  try {
    await withDdlLock(pool, async (c) => {
      await c.query(
        `CREATE TABLE IF NOT EXISTS events (${EVENT_COLUMNS.map(
          (col) => `${col.column} ${SQL_TYPE[col.kind]}${col.nullable ? '' : ' NOT NULL'}`,
        ).join(', ')}) PARTITION BY RANGE (ts)`,
      );
      await c.query('CREATE INDEX IF NOT EXISTS events_subject_ts ON events (subject_id, ts)');
      await c.query('CREATE INDEX IF NOT EXISTS events_ts ON events (ts)');
      // The orders catch-up reads order events by the time they were received (an import's events are
      // dated long before): a small partial index, so it never scans the page views.
      await c.query(
        "CREATE INDEX IF NOT EXISTS events_orders_received ON events (received_at, event_id) WHERE type = 'order_completed'",
      );
      await c.query('CREATE TABLE IF NOT EXISTS event_ids (event_id text PRIMARY KEY)');
    });
  } catch (cause) {
    await pool.end().catch(() => undefined);
    throw new AppError(
      'store_error',
      `Cannot prepare the PostgreSQL event store: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }

  const db = new Kysely<EventTables>({ dialect: new PostgresDialect({ pool }) });
  const knownPartitions = new Set<string>();
  let closed = false;

  async function ensurePartitions(events: readonly EventRecord[]): Promise<void> {
    const needed = new Map<string, Date>();
    for (const e of events) {
      const start = monthStart(e.ts);
      const name = partitionName(start);
      if (!knownPartitions.has(name)) needed.set(name, start);
    }
    if (needed.size === 0) return;
    await withDdlLock(pool, async (c) => {
      for (const [name, start] of needed) {
        const end = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
        await c.query(
          `CREATE TABLE IF NOT EXISTS ${name} PARTITION OF events FOR VALUES FROM ('${start.toISOString()}') TO ('${end.toISOString()}')`,
        );
      }
    });
    for (const name of needed.keys()) knownPartitions.add(name);
  }

  async function appendChunk(events: readonly EventRecord[]): Promise<number> {
    const arrays = EVENT_COLUMNS.map((c) => events.map((e) => e[c.field] ?? null));
    const params = arrays.map((a, i) => `$${i + 1}::${ARRAY_TYPE[EVENT_COLUMNS[i]!.kind]}`).join(', ');
    const projected = EVENT_COLUMNS.map((c) =>
      c.kind === 'ts' ? `timestamptz 'epoch' + u.${c.column} * interval '1 millisecond'` : `u.${c.column}`,
    ).join(', ');
    // New ids go into event_ids first; only rows whose id was new are stored (and only once per batch).
    const text = `
      WITH u AS (SELECT * FROM unnest(${params}) AS u(${COLUMN_LIST})),
      fresh AS (
        INSERT INTO event_ids (event_id) SELECT DISTINCT event_id FROM u
        ON CONFLICT DO NOTHING RETURNING event_id
      )
      INSERT INTO events (${COLUMN_LIST})
      SELECT DISTINCT ON (u.event_id) ${projected} FROM u JOIN fresh ON fresh.event_id = u.event_id`;
    const r = await pool.query(text, arrays);
    return r.rowCount ?? 0;
  }

  async function append(events: readonly EventRecord[]): Promise<AppendResult> {
    if (events.length === 0) return { inserted: 0, duplicates: 0 };
    for (const e of events) checkEventRecord(e);
    await ensurePartitions(events);
    let inserted = 0;
    for (let i = 0; i < events.length; i += CHUNK) inserted += await appendChunk(events.slice(i, i + CHUNK));
    return { inserted, duplicates: events.length - inserted };
  }

  async function deleteWhere(where: string, params: unknown[]): Promise<number> {
    const r = await pool.query<{ n: number }>(
      `WITH d AS (DELETE FROM events WHERE ${where} RETURNING event_id),
       x AS (DELETE FROM event_ids WHERE event_id IN (SELECT event_id FROM d))
       SELECT count(*)::int AS n FROM d`,
      params,
    );
    return r.rows[0]?.n ?? 0;
  }

  return {
    dialect: 'postgres',
    db,
    append,
    // A PostgreSQL commit does not stall behind a checkpoint: accepting is appending.
    async accept(events) {
      await append(events);
    },
    async eventsOfSubjects(subjectIds, limit) {
      if (subjectIds.length === 0) return [];
      let q = db
        .selectFrom('events')
        .selectAll()
        .where('subject_id', 'in', [...subjectIds])
        .orderBy('ts')
        .orderBy('event_id');
      if (limit !== undefined) q = q.limit(limit);
      const rows = await q.execute();
      return rows.map((r) => eventFromRow(r as unknown as Record<string, unknown>));
    },
    async deleteSubjects(subjectIds) {
      if (subjectIds.length === 0) return 0;
      return deleteWhere('subject_id = ANY($1::text[])', [[...subjectIds]]);
    },
    async deleteOlderThan(beforeTs, filter = {}) {
      const conditions = [`ts < timestamptz 'epoch' + $1::bigint * interval '1 millisecond'`];
      const params: unknown[] = [beforeTs];
      if (filter.identified === true) conditions.push('user_id IS NOT NULL');
      if (filter.identified === false) conditions.push('user_id IS NULL');
      if (filter.types && filter.types.length > 0) {
        params.push([...filter.types]);
        conditions.push(`type = ANY($${params.length}::text[])`);
      }
      return deleteWhere(conditions.join(' AND '), params);
    },
    async count() {
      const r = await sql<{ n: number }>`SELECT count(*) AS n FROM events`.execute(db);
      return Number(r.rows[0]?.n ?? 0);
    },
    async ping() {
      await sql`SELECT 1`.execute(db);
    },
    async compact() {
      // VACUUM cannot run in a transaction; pool.query runs it on its own.
      await pool.query('VACUUM events');
      await pool.query('VACUUM event_ids');
    },
    async purge() {
      // Plain VACUUM (not FULL, which locks and copies every partition): on the parent it visits each
      // partition, skips pages the visibility map marks clean, and marks dead tuples' space free; PostgreSQL
      // then overwrites that space with new rows. Deleted rows are invisible to every query at once.
      const size = async () => {
        const r = await pool.query<{ n: string | null }>(
          `SELECT sum(pg_total_relation_size(c.oid))::text AS n FROM pg_class c
           WHERE c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'events'::regclass)
              OR c.oid = 'event_ids'::regclass`,
        );
        return Number(r.rows[0]?.n ?? 0);
      };
      const bytesBefore = await size();
      await pool.query('VACUUM events');
      await pool.query('VACUUM event_ids');
      return { rewritten: false, bytesBefore, bytesAfter: await size() };
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}
