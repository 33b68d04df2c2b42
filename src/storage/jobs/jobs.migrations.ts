/**
 * Tables of the jobs/outbox queue. Applied by the composition root together with the modules' migrations
 * (`state.migrate({ ...jobsMigrations, ...moduleMigrations })`).
 */
import { sql } from 'kysely';
import type { Migration } from 'kysely/migration';
import { columnTypes, stateDialectOf } from '../column-types.ts';

export const jobsMigrations: Record<string, Migration> = {
  'storage-0001-jobs': {
    async up(db) {
      const t = columnTypes(stateDialectOf(db));
      await db.schema
        .createTable('jobs')
        .addColumn('id', t.text, (c) => c.primaryKey())
        .addColumn('kind', t.text, (c) => c.notNull())
        .addColumn('payload', t.json, (c) => c.notNull())
        .addColumn('status', t.text, (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('max_attempts', 'integer', (c) => c.notNull())
        .addColumn('run_at', t.ts, (c) => c.notNull())
        .addColumn('unique_key', t.text)
        .addColumn('locked_by', t.text)
        .addColumn('locked_until', t.ts)
        .addColumn('last_error', t.text)
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .addColumn('updated_at', t.ts, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('jobs_due').on('jobs').columns(['status', 'kind', 'run_at']).execute();
      // At most one queued-or-running job per unique key; done and failed jobs keep their key for history.
      await db.schema
        .createIndex('jobs_unique_key')
        .on('jobs')
        .column('unique_key')
        .unique()
        .where(sql<boolean>`status in ('queued', 'running')`)
        .execute();
      await db.schema
        .createTable('job_schedules')
        .addColumn('name', t.text, (c) => c.primaryKey())
        .addColumn('kind', t.text, (c) => c.notNull())
        .addColumn('every_ms', t.bigint, (c) => c.notNull())
        .addColumn('payload', t.json, (c) => c.notNull())
        .addColumn('next_run_at', t.ts, (c) => c.notNull())
        .addColumn('updated_at', t.ts, (c) => c.notNull())
        .execute();
    },
  },
};
