/**
 * Physical purge of deleted events. Deleting a shopper's events (erasure) or old events (retention) hides
 * them from every query at once, but the embedded store (DuckDB) keeps their bytes in shared row groups
 * until the file is rewritten (`EventStore.purge`). Each erasure and each retention run that deleted
 * events records a pending purge here (the request or run id and times only, no subject data); a purge
 * marks every deletion it covers as purged. Small shops purge inside the erasure or run, so the receipt
 * says "purged at T"; larger ones leave it to the `events.purge` job, and the receipt says "scheduled by T".
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { Clock } from '../../kernel/clock.ts';
import type { Logger } from '../../kernel/logger.ts';
import { columnTypes } from '../../storage/column-types.ts';
import type { EventStore, StateDialect, StateStore } from '../../storage/ports.ts';

export const EVENTS_PURGE_JOB = 'events.purge';
/** How often the purge job looks for erasures not yet purged. */
export const EVENTS_PURGE_EVERY_MS = 60 * 60 * 1000;
/**
 * Up to this many events, the erasure itself rewrites the event file (about 8 s per million events on a
 * 2-core machine, so under 5 s here) and the receipt is issued after the purge.
 */
export const INLINE_PURGE_MAX_EVENTS = 500_000;

/** What a receipt says about the physical purge of the subject's events. */
export type EventPurgeStatus =
  { status: 'purged'; purgedAt: number } | { status: 'scheduled'; purgeBy: number };

type Num = number | string | bigint;
type EventPurgeRow = { request_id: string; erased_at: Num; purge_by: Num; purged_at: Num | null };
type EventPurgeTables = { event_purges: EventPurgeRow };

export function eventPurgeMigrations(dialect: StateDialect): Record<string, Migration> {
  const t = columnTypes(dialect);
  return {
    'privacy-0004-event-purges': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('event_purges')
          .ifNotExists()
          .addColumn('request_id', 'text', (c) => c.primaryKey())
          .addColumn('erased_at', t.ts, (c) => c.notNull())
          .addColumn('purge_by', t.ts, (c) => c.notNull())
          .addColumn('purged_at', t.ts)
          .execute();
      },
    },
  };
}

function toStatus(r: EventPurgeRow): EventPurgeStatus {
  return r.purged_at === null
    ? { status: 'scheduled', purgeBy: Number(r.purge_by) }
    : { status: 'purged', purgedAt: Number(r.purged_at) };
}

export type EventPurges = ReturnType<typeof createEventPurges>;

export function createEventPurges(
  deps: { state: StateStore; events: EventStore; clock: Clock; logger: Logger },
  config: { everyMs?: number; inlineMaxEvents?: number } = {},
) {
  const db = deps.state.db as Kysely<EventPurgeTables>;
  const now = () => deps.clock.now().getTime();
  const everyMs = config.everyMs ?? EVENTS_PURGE_EVERY_MS;
  const inlineMax = config.inlineMaxEvents ?? INLINE_PURGE_MAX_EVENTS;

  const pending = async (): Promise<string[]> =>
    (await db.selectFrom('event_purges').select('request_id').where('purged_at', 'is', null).execute()).map(
      (r) => r.request_id,
    );

  /** Rewrites the event store and marks every erasure recorded before it started as purged. */
  const purgeNow = async (): Promise<{ purged: number; bytesBefore: number; bytesAfter: number }> => {
    const ids = await pending();
    const result = await deps.events.purge();
    if (ids.length > 0)
      await db
        .updateTable('event_purges')
        .set({ purged_at: now() })
        .where('request_id', 'in', ids)
        .where('purged_at', 'is', null)
        .execute();
    deps.logger.info(
      { erasures: ids.length, bytesBefore: result.bytesBefore, bytesAfter: result.bytesAfter },
      'event store purged',
    );
    return { purged: ids.length, bytesBefore: result.bytesBefore, bytesAfter: result.bytesAfter };
  };

  const status = async (requestId: string): Promise<EventPurgeStatus | null> => {
    const r = await db
      .selectFrom('event_purges')
      .selectAll()
      .where('request_id', '=', requestId)
      .executeTakeFirst();
    return r ? toStatus(r) : null;
  };

  const afterDeletion = async (ref: string): Promise<EventPurgeStatus> => {
    const t = now();
    // Two periods: the next tick may be up to one period away, and the purge itself takes time.
    await db
      .insertInto('event_purges')
      .values({ request_id: ref, erased_at: t, purge_by: t + 2 * everyMs, purged_at: null })
      .onConflict((oc) => oc.column('request_id').doNothing())
      .execute();
    const current = await status(ref);
    if (current?.status === 'purged') return current;
    if ((await deps.events.count()) <= inlineMax) await purgeNow();
    else await deps.events.compact();
    return (await status(ref))!;
  };

  return {
    pending,
    purgeNow,
    status,

    /**
     * Called once events are deleted (an erasure's, under its request id; a retention run's, under the run
     * id): purges at once on a small shop, else records the deletion for the next scheduled purge.
     * Idempotent (a resumed erasure calls it again).
     */
    afterDeletion,
    /** An erasure's deletion (see afterDeletion). */
    afterErasure: afterDeletion,

    /** The scheduled job: purges only when some erasure is still waiting for it. */
    async runScheduled(): Promise<{ purged: number }> {
      if ((await pending()).length === 0) return { purged: 0 };
      return { purged: (await purgeNow()).purged };
    },
  };
}
