/**
 * Retention: a time-to-live per data class, enforced by a scheduled job. Before raw events are deleted
 * they are rolled up per day (counts, distinct subjects, revenue per type, source and category), so
 * reports over old periods still work and hold no subject id. Cut-offs are whole UTC days, so each day
 * is rolled up completely in one run and a re-run after a crash rewrites the same totals.
 *
 * Deleted events are then purged from the event files exactly as an erasure's are (decision 0005): a
 * rewrite inside the run on a small shop, else recorded for the hourly `events.purge` job. A run that
 * deleted events reports which (`eventPurge` on each class that deleted some).
 */
import { sql } from 'kysely';
import type { Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { EventStore, StateStore } from '../../storage/ports.ts';
import type { EventPurgeStatus, EventPurges } from './event-purge.ts';
import type { HolderRegistry } from './holder.ts';
import { privacyDb } from './store.ts';

export const RETENTION_CLASSES = [
  'events.anonymous',
  'events.identified',
  'orders',
  'reviews',
  'chat_transcripts',
  'quarantine',
] as const;
export type RetentionClass = (typeof RETENTION_CLASSES)[number];

export const DEFAULT_RETENTION_DAYS: Readonly<Record<RetentionClass, number>> = {
  'events.anonymous': 395,
  'events.identified': 730,
  // Order records back tax filings; ten years covers the longest common limitation periods (e.g. Indonesia's KUP).
  orders: 3650,
  reviews: 1825,
  chat_transcripts: 180,
  quarantine: 30,
};

/** Event types that belong to their own class rather than to the generic event classes. */
const CLASS_TYPES: Partial<Record<RetentionClass, readonly string[]>> = {
  orders: ['order_completed'],
  reviews: ['review_submitted'],
};
const SPECIAL_TYPES = new Set(Object.values(CLASS_TYPES).flat());

export function isRetentionClass(value: unknown): value is RetentionClass {
  return typeof value === 'string' && (RETENTION_CLASSES as readonly string[]).includes(value);
}

const DAY = 24 * 60 * 60 * 1000;

export type RetentionRunResult = {
  dataClass: RetentionClass;
  beforeTs: number;
  deleted: number;
  rolledUpDays: number;
  /** Events of this class deleted from the event store (part of `deleted`). */
  eventsDeleted: number;
  /** Set when the run deleted events: purged from the files at once, or due by the scheduled purge. */
  eventPurge?: EventPurgeStatus;
}[];

export function createRetentionService(deps: {
  state: StateStore;
  events: EventStore;
  clock: Clock;
  registry: HolderRegistry;
  logger: Logger;
  /** Physical purge of deleted events, shared with erasure. */
  purges: Pick<EventPurges, 'afterDeletion'>;
}) {
  const db = privacyDb(deps.state);

  const policies = async (): Promise<{ dataClass: RetentionClass; ttlDays: number }[]> => {
    const rows = await db.selectFrom('retention_policies').selectAll().execute();
    const set = new Map(rows.map((r) => [r.data_class, Number(r.ttl_days)]));
    return RETENTION_CLASSES.map((c) => ({ dataClass: c, ttlDays: set.get(c) ?? DEFAULT_RETENTION_DAYS[c] }));
  };

  /** Which event types of an age range a class covers (read before deleting, so unknown custom types are covered too). */
  const typesOf = async (cls: RetentionClass, beforeTs: number): Promise<string[]> => {
    if (CLASS_TYPES[cls]) return [...CLASS_TYPES[cls]];
    const r = await sql<{
      type: string;
    }>`select distinct type from events where ts < ${new Date(beforeTs)}`.execute(deps.events.db);
    return r.rows.map((x) => x.type).filter((t) => !SPECIAL_TYPES.has(t));
  };

  const identifiedOf = (cls: RetentionClass): boolean | undefined =>
    cls === 'events.anonymous' ? false : cls === 'events.identified' ? true : undefined;

  const rollUp = async (cls: RetentionClass, beforeTs: number, types: readonly string[]): Promise<number> => {
    if (types.length === 0) return 0;
    const identified = identifiedOf(cls);
    const who =
      identified === undefined ? sql`true` : identified ? sql`user_id is not null` : sql`user_id is null`;
    const r = await sql<{
      day: Date | string;
      type: string;
      source_id: string;
      category: string;
      events: number | bigint;
      subjects: number | bigint;
      revenue: number | null;
    }>`
      select date_trunc('day', ts) as day, type, source_id, coalesce(category, '') as category,
             count(*) as events, count(distinct subject_id) as subjects, coalesce(sum(revenue), 0) as revenue
      from events
      where ts < ${new Date(beforeTs)} and ${who} and type in (${sql.join([...types])})
      group by 1, 2, 3, 4`.execute(deps.events.db);
    const days = new Set<number>();
    for (const row of r.rows) {
      const day =
        row.day instanceof Date ? row.day.getTime() : Date.parse(`${String(row.day).replace(' ', 'T')}Z`);
      days.add(day);
      const values = {
        day,
        data_class: cls,
        type: row.type,
        source_id: row.source_id,
        category: row.category,
        events: Number(row.events),
        subjects: Number(row.subjects),
        revenue: Number(row.revenue ?? 0),
      };
      await db
        .insertInto('retention_rollups')
        .values(values)
        .onConflict((oc) =>
          oc
            .columns(['day', 'data_class', 'type', 'source_id', 'category'])
            .doUpdateSet({ events: values.events, subjects: values.subjects, revenue: values.revenue }),
        )
        .execute();
    }
    return days.size;
  };

  return {
    policies,

    async setPolicy(dataClass: string, ttlDays: number): Promise<void> {
      if (!isRetentionClass(dataClass)) {
        throw new AppError(
          'invalid_request',
          `Unknown data class ${dataClass}; use one of ${RETENTION_CLASSES.join(', ')}.`,
        );
      }
      if (!Number.isInteger(ttlDays) || ttlDays < 1 || ttlDays > 36500) {
        throw new AppError('invalid_request', 'ttlDays must be a whole number of days between 1 and 36500.');
      }
      const now = deps.clock.now().getTime();
      await db
        .insertInto('retention_policies')
        .values({ data_class: dataClass, ttl_days: ttlDays, updated_at: now })
        .onConflict((oc) => oc.column('data_class').doUpdateSet({ ttl_days: ttlDays, updated_at: now }))
        .execute();
    },

    /** Applies every policy once: roll up, delete what is past its time, then purge the deleted events' bytes. */
    async run(): Promise<RetentionRunResult> {
      const now = deps.clock.now().getTime();
      // Names this run's pending purge (event_purges keys erasures by request id, retention runs by this id).
      const runId = newId('retrun');
      const out: RetentionRunResult = [];
      for (const { dataClass, ttlDays } of await policies()) {
        const beforeTs = Math.floor((now - ttlDays * DAY) / DAY) * DAY;
        let deleted = 0;
        let eventsDeleted = 0;
        let rolledUpDays = 0;
        if (dataClass.startsWith('events.') || CLASS_TYPES[dataClass]) {
          const types = await typesOf(dataClass, beforeTs);
          rolledUpDays = await rollUp(dataClass, beforeTs, types);
          if (types.length > 0) {
            const identified = identifiedOf(dataClass);
            eventsDeleted = await deps.events.deleteOlderThan(beforeTs, {
              ...(identified !== undefined ? { identified } : {}),
              types,
            });
            deleted += eventsDeleted;
          }
        }
        for (const holder of deps.registry.list()) {
          if (holder.purgeExpired) deleted += await holder.purgeExpired(dataClass, beforeTs);
        }
        await db
          .insertInto('retention_runs')
          .values({ id: newId('ret'), ran_at: now, data_class: dataClass, before_ts: beforeTs, deleted })
          .execute();
        out.push({ dataClass, beforeTs, deleted, rolledUpDays, eventsDeleted });
      }
      const eventsDeleted = out.reduce((a, r) => a + r.eventsDeleted, 0);
      let eventPurge: EventPurgeStatus | undefined;
      if (eventsDeleted > 0) {
        // Deleted rows are invisible at once, but DuckDB keeps their bytes (pseudonyms included) in shared
        // row groups until the file is rewritten.
        eventPurge = await deps.purges.afterDeletion(runId);
        for (const r of out) if (r.eventsDeleted > 0) r.eventPurge = eventPurge;
      }
      deps.logger.info(
        {
          classes: out.length,
          deleted: out.reduce((a, r) => a + r.deleted, 0),
          eventsDeleted,
          eventPurge: eventPurge?.status ?? 'none',
        },
        'retention run finished',
      );
      return out;
    },

    async rollups(filter: { dataClass?: string; fromTs?: number; toTs?: number } = {}) {
      let q = db.selectFrom('retention_rollups').selectAll().orderBy('day', 'asc');
      if (filter.dataClass) q = q.where('data_class', '=', filter.dataClass);
      if (filter.fromTs !== undefined) q = q.where('day', '>=', filter.fromTs);
      if (filter.toTs !== undefined) q = q.where('day', '<', filter.toTs);
      return (await q.execute()).map((r) => ({
        day: Number(r.day),
        dataClass: r.data_class,
        type: r.type,
        sourceId: r.source_id,
        category: r.category,
        events: Number(r.events),
        subjects: Number(r.subjects),
        revenue: Number(r.revenue),
      }));
    },
  };
}

export type RetentionService = ReturnType<typeof createRetentionService>;
