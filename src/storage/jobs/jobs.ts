/**
 * The `Jobs` port on a state store (SQLite or PostgreSQL): a jobs/outbox table with idempotent enqueue,
 * leases, retries with exponential backoff and jitter, and recurring schedules.
 *
 * Claiming is one `UPDATE … WHERE id = (SELECT … LIMIT 1) RETURNING *`: on PostgreSQL the subquery takes
 * `FOR UPDATE SKIP LOCKED`, so concurrent workers pass over each other's rows; on SQLite the statement is
 * itself a write transaction, and writes are serialised by the database.
 */
import { randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import { systemClock, type Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import type { EnqueueOptions, Job, JobStatus, Jobs, StateStore } from '../ports.ts';

type JobRow = {
  id: string;
  kind: string;
  payload: string;
  status: JobStatus;
  attempts: number;
  max_attempts: number;
  run_at: number;
  unique_key: string | null;
  locked_by: string | null;
  locked_until: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
};

type ScheduleRow = {
  name: string;
  kind: string;
  every_ms: number;
  payload: string;
  next_run_at: number;
  updated_at: number;
};

export type JobTables = { jobs: JobRow; job_schedules: ScheduleRow };

export type JobsOptions = {
  /** Delay before the first retry; doubles with every attempt. */
  backoffBaseMs?: number;
  /** Longest delay between retries. */
  backoffMaxMs?: number;
  /** Attempts when the caller does not say. */
  defaultMaxAttempts?: number;
};

/** Exponential backoff with ±25 % jitter, so jobs that failed together do not retry together. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  const jitter = exp * 0.25;
  return Math.max(0, Math.round(exp - jitter + (randomInt(0, 1_000_001) / 1_000_000) * 2 * jitter));
}

function toJob(row: JobRow): Job {
  return {
    id: row.id,
    kind: row.kind,
    payload: JSON.parse(row.payload) as unknown,
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    runAt: Number(row.run_at),
    uniqueKey: row.unique_key,
  };
}

export function createJobs(state: StateStore, clock: Clock = systemClock, options: JobsOptions = {}): Jobs {
  const db = state.db as Kysely<JobTables>;
  const baseMs = options.backoffBaseMs ?? 5_000;
  const maxMs = options.backoffMaxMs ?? 60 * 60_000;
  const defaultMaxAttempts = options.defaultMaxAttempts ?? 5;
  const now = () => clock.now().getTime();

  async function enqueueWith(
    q: Kysely<JobTables>,
    kind: string,
    payload: unknown,
    opts: EnqueueOptions,
  ): Promise<{ id: string; created: boolean }> {
    const t = now();
    const maxAttempts = opts.maxAttempts ?? defaultMaxAttempts;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new AppError('invalid_request', `maxAttempts must be a positive integer, got ${maxAttempts}.`);
    }
    const uniqueKey = opts.uniqueKey ?? null;
    // A unique key can be freed (its job finished) between our insert and our lookup; try again then.
    for (let round = 0; round < 5; round++) {
      const id = newId('job');
      const inserted = await q
        .insertInto('jobs')
        .values({
          id,
          kind,
          payload: JSON.stringify(payload ?? null),
          status: 'queued',
          attempts: 0,
          max_attempts: maxAttempts,
          run_at: opts.runAt ?? t,
          unique_key: uniqueKey,
          locked_by: null,
          locked_until: null,
          last_error: null,
          created_at: t,
          updated_at: t,
        })
        .onConflict((oc) => oc.doNothing())
        .returning('id')
        .executeTakeFirst();
      if (inserted) return { id: inserted.id, created: true };
      if (uniqueKey === null)
        throw new AppError('store_error', `Could not enqueue job ${kind}: id collision.`);
      const existing = await q
        .selectFrom('jobs')
        .select('id')
        .where('unique_key', '=', uniqueKey)
        .where('status', 'in', ['queued', 'running'])
        .executeTakeFirst();
      if (existing) return { id: existing.id, created: false };
    }
    throw new AppError(
      'store_error',
      `Could not enqueue job ${kind} with unique key ${uniqueKey}: it keeps changing.`,
    );
  }

  return {
    enqueue: (kind, payload, opts = {}) => enqueueWith(db, kind, payload, opts),

    async claim(workerId, kinds, leaseMs) {
      if (kinds.length === 0) return null;
      const t = now();
      // A job whose worker vanished after its last allowed attempt is failed, not retried forever.
      await db
        .updateTable('jobs')
        .set({
          status: 'failed',
          last_error: 'lease expired on the last attempt',
          locked_by: null,
          updated_at: t,
        })
        .where('status', '=', 'running')
        .where('locked_until', '<', t)
        .whereRef('attempts', '>=', 'max_attempts')
        .execute();
      let candidate = db
        .selectFrom('jobs')
        .select('id')
        .where('kind', 'in', [...kinds])
        .where((eb) =>
          eb.or([
            eb.and([eb('status', '=', 'queued'), eb('run_at', '<=', t)]),
            eb.and([eb('status', '=', 'running'), eb('locked_until', '<', t)]),
          ]),
        )
        .orderBy('run_at')
        .orderBy('id')
        .limit(1);
      if (state.dialect === 'postgres') candidate = candidate.forUpdate().skipLocked();
      const row = await db
        .updateTable('jobs')
        .set((eb) => ({
          status: 'running',
          locked_by: workerId,
          locked_until: t + leaseMs,
          attempts: eb('attempts', '+', 1),
          updated_at: t,
        }))
        .where('id', '=', (eb) => eb.selectFrom(candidate.as('c')).select('c.id'))
        .returningAll()
        .executeTakeFirst();
      return row ? toJob(row) : null;
    },

    async complete(jobId, workerId) {
      const r = await db
        .updateTable('jobs')
        .set({ status: 'done', locked_by: null, locked_until: null, updated_at: now() })
        .where('id', '=', jobId)
        .where('status', '=', 'running')
        .where('locked_by', '=', workerId)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) {
        throw new AppError(
          'conflict',
          `Job ${jobId} is not held by ${workerId}: its lease expired or it was finished.`,
        );
      }
    },

    async fail(jobId, workerId, error) {
      const t = now();
      const row = await db
        .selectFrom('jobs')
        .selectAll()
        .where('id', '=', jobId)
        .where('status', '=', 'running')
        .where('locked_by', '=', workerId)
        .executeTakeFirst();
      if (!row) {
        throw new AppError(
          'conflict',
          `Job ${jobId} is not held by ${workerId}: its lease expired or it was finished.`,
        );
      }
      const attempts = Number(row.attempts);
      const willRetry = attempts < Number(row.max_attempts);
      const nextRunAt = willRetry ? t + backoffDelay(attempts, baseMs, maxMs) : null;
      const r = await db
        .updateTable('jobs')
        .set({
          status: willRetry ? 'queued' : 'failed',
          run_at: nextRunAt ?? Number(row.run_at),
          locked_by: null,
          locked_until: null,
          last_error: error.slice(0, 4000),
          updated_at: t,
        })
        .where('id', '=', jobId)
        .where('status', '=', 'running')
        .where('locked_by', '=', workerId)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) {
        throw new AppError(
          'conflict',
          `Job ${jobId} is not held by ${workerId}: its lease expired or it was finished.`,
        );
      }
      return { willRetry, nextRunAt };
    },

    async schedule(name, kind, everyMs, payload = null) {
      if (!Number.isInteger(everyMs) || everyMs < 1) {
        throw new AppError(
          'invalid_request',
          `Schedule ${name}: everyMs must be a positive integer, got ${everyMs}.`,
        );
      }
      const t = now();
      // A new schedule is due at once; changing an existing one keeps its next run.
      await db
        .insertInto('job_schedules')
        .values({
          name,
          kind,
          every_ms: everyMs,
          payload: JSON.stringify(payload),
          next_run_at: t,
          updated_at: t,
        })
        .onConflict((oc) =>
          oc.column('name').doUpdateSet((eb) => ({
            kind: eb.ref('excluded.kind'),
            every_ms: eb.ref('excluded.every_ms'),
            payload: eb.ref('excluded.payload'),
            updated_at: eb.ref('excluded.updated_at'),
          })),
        )
        .execute();
    },

    async tickSchedules() {
      const t = now();
      const due = await db.selectFrom('job_schedules').selectAll().where('next_run_at', '<=', t).execute();
      let enqueued = 0;
      for (const s of due) {
        const previous = Number(s.next_run_at);
        const every = Number(s.every_ms);
        // Missed periods collapse into one run; the next one is the first period boundary after now.
        const next = previous + every * (Math.floor((t - previous) / every) + 1);
        const won = await state.transaction(async (trx) => {
          const q = trx as Kysely<JobTables>;
          // Compare-and-set on next_run_at: of several tickers, exactly one moves it and enqueues the run.
          const r = await q
            .updateTable('job_schedules')
            .set({ next_run_at: next, updated_at: t })
            .where('name', '=', s.name)
            .where('next_run_at', '=', previous)
            .executeTakeFirst();
          if (Number(r.numUpdatedRows) !== 1) return false;
          await enqueueWith(q, s.kind, JSON.parse(s.payload) as unknown, {
            uniqueKey: `schedule:${s.name}:${previous}`,
            runAt: t,
          });
          return true;
        });
        if (won) enqueued++;
      }
      return enqueued;
    },

    async get(jobId) {
      const row = await db.selectFrom('jobs').selectAll().where('id', '=', jobId).executeTakeFirst();
      if (!row) return null;
      return { ...toJob(row), status: row.status, lastError: row.last_error };
    },

    async counts() {
      const rows = await db
        .selectFrom('jobs')
        .select(['status', (eb) => eb.fn.countAll<number | string>().as('n')])
        .groupBy('status')
        .execute();
      const out: Record<JobStatus, number> = { queued: 0, running: 0, done: 0, failed: 0 };
      for (const r of rows) out[r.status] = Number(r.n);
      return out;
    },
  };
}
