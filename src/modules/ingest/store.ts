/**
 * The ingest module's tables in the state store: quarantined events (reason, source, type, size, time —
 * never content, never ids of people) and drop counters per source and reason.
 */
import type { CompiledQuery, Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { columnTypes, tablesOf } from '../../storage/index.ts';
import type { StateStore } from '../../storage/ports.ts';

type Num = number | string | bigint;

export type QuarantineRow = {
  id: string;
  source_id: string;
  reason: string;
  event_type: string;
  detail: string | null;
  size_bytes: Num;
  received_at: Num;
};

export type DropCountRow = { source_id: string; reason: string; count: Num; last_at: Num };

/** Stream messages (server mode) whose diagnostics were recorded: a redelivery must not count twice. */
export type StreamAppliedRow = { message_id: string; applied_at: Num };

export type IngestTables = {
  ingest_quarantine: QuarantineRow;
  ingest_drop_counts: DropCountRow;
  ingest_stream_applied: StreamAppliedRow;
};

export function ingestMigrations(store: StateStore): Record<string, Migration> {
  const t = columnTypes(store.dialect);
  return {
    'ingest-0001-quarantine': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('ingest_quarantine')
          .ifNotExists()
          .addColumn('id', t.text, (c) => c.primaryKey())
          .addColumn('source_id', t.text, (c) => c.notNull())
          .addColumn('reason', t.text, (c) => c.notNull())
          .addColumn('event_type', t.text, (c) => c.notNull())
          .addColumn('detail', t.text)
          .addColumn('size_bytes', t.bigint, (c) => c.notNull())
          .addColumn('received_at', t.ts, (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('ingest_quarantine_source_reason')
          .ifNotExists()
          .on('ingest_quarantine')
          .columns(['source_id', 'reason', 'received_at'])
          .execute();
        await db.schema
          .createTable('ingest_drop_counts')
          .ifNotExists()
          .addColumn('source_id', t.text, (c) => c.notNull())
          .addColumn('reason', t.text, (c) => c.notNull())
          .addColumn('count', t.bigint, (c) => c.notNull())
          .addColumn('last_at', t.ts, (c) => c.notNull())
          .addPrimaryKeyConstraint('ingest_drop_counts_pk', ['source_id', 'reason'])
          .execute();
      },
    },
    'ingest-0002-stream-applied': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('ingest_stream_applied')
          .ifNotExists()
          .addColumn('message_id', t.text, (c) => c.primaryKey())
          .addColumn('applied_at', t.ts, (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('ingest_stream_applied_at')
          .ifNotExists()
          .on('ingest_stream_applied')
          .column('applied_at')
          .execute();
      },
    },
  };
}

export type QuarantineEntry = {
  id: string;
  sourceId: string;
  reason: string;
  eventType: string;
  detail: string | null;
  sizeBytes: number;
  receivedAt: number;
};

export type DropCount = { sourceId: string; reason: string; count: number; lastAt: number };

export type IngestStats = {
  quarantined: { sourceId: string; reason: string; count: number; lastAt: number }[];
  dropped: DropCount[];
  recent: QuarantineEntry[];
};

export type IngestStore = ReturnType<typeof createIngestStore>;

export function createIngestStore(store: StateStore) {
  const db = () => tablesOf<IngestTables>(store);

  /** The statements that record quarantined events and add drops to their counters. */
  function statements(
    tx: Kysely<IngestTables>,
    quarantined: readonly QuarantineEntry[],
    drops: readonly DropCount[],
  ): CompiledQuery[] {
    const out: CompiledQuery[] = [];
    for (let i = 0; i < quarantined.length; i += 500) {
      out.push(
        tx
          .insertInto('ingest_quarantine')
          .values(
            quarantined.slice(i, i + 500).map((q) => ({
              id: q.id,
              source_id: q.sourceId,
              reason: q.reason,
              event_type: q.eventType,
              detail: q.detail,
              size_bytes: q.sizeBytes,
              received_at: q.receivedAt,
            })),
          )
          .compile(),
      );
    }
    for (const d of drops) {
      out.push(
        tx
          .insertInto('ingest_drop_counts')
          .values({ source_id: d.sourceId, reason: d.reason, count: d.count, last_at: d.lastAt })
          .onConflict((oc) =>
            oc.columns(['source_id', 'reason']).doUpdateSet((eb) => ({
              count: eb('ingest_drop_counts.count', '+', eb.ref('excluded.count')),
              last_at: eb.ref('excluded.last_at'),
            })),
          )
          .compile(),
      );
    }
    return out;
  }

  async function write(
    tx: Kysely<IngestTables>,
    quarantined: readonly QuarantineEntry[],
    drops: readonly DropCount[],
  ): Promise<void> {
    for (const q of statements(tx, quarantined, drops)) await tx.executeQuery(q);
  }

  return {
    /**
     * Quarantine rows and drop counters of one group commit, and the group's other state writes (vault,
     * identity links), in one transaction: one durable commit per group, not one per request or identify.
     */
    async record(
      quarantined: readonly QuarantineEntry[],
      drops: readonly DropCount[],
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the port's transaction handle is untyped
      writes: readonly ((trx: Kysely<any>) => Promise<unknown>)[] = [],
    ): Promise<void> {
      if (quarantined.length === 0 && drops.length === 0 && writes.length === 0) return;
      // Diagnostics alone (most groups: page views and track calls) go to the store's background writer
      // where it has one (SQLite), so no commit and fsync holds the thread that serves requests. Its
      // commits may skip the fsync: a power loss may lose the last counts, never an event (decision 0013).
      if (writes.length === 0 && store.backgroundWrites) {
        await store.backgroundWrites.run(statements(db(), quarantined, drops));
        return;
      }
      await store.transaction(async (trx) => {
        await write(trx as Kysely<IngestTables>, quarantined, drops);
        for (const w of writes) await w(trx);
      });
    },

    /**
     * The same for one stream message, at most once per message id (same transaction as the marker), so a
     * redelivered message never counts its drops twice. Returns false when it had been recorded before.
     */
    async recordOnce(
      messageId: string,
      quarantined: readonly QuarantineEntry[],
      drops: readonly DropCount[],
      now: number,
    ): Promise<boolean> {
      if (quarantined.length === 0 && drops.length === 0) return true;
      return store.transaction(async (trx) => {
        const tx = trx as Kysely<IngestTables>;
        const marked = await tx
          .insertInto('ingest_stream_applied')
          .values({ message_id: messageId, applied_at: now })
          .onConflict((oc) => oc.column('message_id').doNothing())
          .executeTakeFirst();
        if (Number(marked.numInsertedOrUpdatedRows ?? 0) === 0) return false;
        await write(tx, quarantined, drops);
        return true;
      });
    },

    /** Markers older than the stream's retention can never meet a redelivery again. */
    async deleteAppliedOlderThan(ts: number): Promise<number> {
      const res = await db()
        .deleteFrom('ingest_stream_applied')
        .where('applied_at', '<', ts)
        .executeTakeFirst();
      return Number(res.numDeletedRows);
    },

    async stats(options: { sourceId?: string; limit: number }): Promise<IngestStats> {
      let q = db()
        .selectFrom('ingest_quarantine')
        .select((eb) => [
          'source_id',
          'reason',
          eb.fn.countAll().as('count'),
          eb.fn.max('received_at').as('last_at'),
        ])
        .groupBy(['source_id', 'reason'])
        .orderBy('source_id')
        .orderBy('reason');
      if (options.sourceId !== undefined) q = q.where('source_id', '=', options.sourceId);
      let d = db().selectFrom('ingest_drop_counts').selectAll().orderBy('source_id').orderBy('reason');
      if (options.sourceId !== undefined) d = d.where('source_id', '=', options.sourceId);
      let r = db()
        .selectFrom('ingest_quarantine')
        .selectAll()
        .orderBy('received_at', 'desc')
        .limit(options.limit);
      if (options.sourceId !== undefined) r = r.where('source_id', '=', options.sourceId);
      const [groups, drops, recent] = await Promise.all([q.execute(), d.execute(), r.execute()]);
      return {
        quarantined: groups.map((g) => ({
          sourceId: g.source_id,
          reason: g.reason,
          count: Number(g.count),
          lastAt: Number(g.last_at),
        })),
        dropped: drops.map((x) => ({
          sourceId: x.source_id,
          reason: x.reason,
          count: Number(x.count),
          lastAt: Number(x.last_at),
        })),
        recent: recent.map((x) => ({
          id: x.id,
          sourceId: x.source_id,
          reason: x.reason,
          eventType: x.event_type,
          detail: x.detail,
          sizeBytes: Number(x.size_bytes),
          receivedAt: Number(x.received_at),
        })),
      };
    },

    /** Retention: quarantine rows are diagnostics, kept for a limited time. */
    async deleteQuarantineOlderThan(ts: number): Promise<number> {
      const res = await db().deleteFrom('ingest_quarantine').where('received_at', '<', ts).executeTakeFirst();
      return Number(res.numDeletedRows);
    },
  };
}
