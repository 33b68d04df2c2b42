/**
 * The privacy module's tables. Requests are evidence and hold no subject data: the subject ids a request
 * is working on live in `dsar_request_subjects` only until it completes, so an erasure can resume after
 * a crash and leave nothing behind when it is done.
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { columnTypes } from '../../storage/column-types.ts';
import type { StateDialect, StateStore } from '../../storage/ports.ts';
import { eventPurgeMigrations } from './event-purge.ts';

type Num = number | string | bigint;

export type DsarRequestRow = {
  id: string;
  kind: string;
  jurisdiction: string;
  channel: string;
  status: string;
  received_at: Num;
  deadline_at: Num;
  verified_at: Num | null;
  verified_by: string | null;
  approved_by: string | null;
  completed_at: Num | null;
  receipt: string | null;
  note: string | null;
  /** The language of the request's messages (privacy-0005). */
  locale: string | null;
};

export type DsarRequestSubjectRow = { request_id: string; subject_id: string; is_user: Num };

export type DsarVerificationRow = {
  request_id: string;
  code_hash: string;
  expires_at: Num;
  attempts: Num;
  max_attempts: Num;
  created_at: Num;
};

export type DsarTargetRow = {
  request_id: string;
  target: string;
  seq: Num;
  status: string;
  deleted: Num;
  legal_holds: string | null;
  attempts: Num;
  last_error: string | null;
  updated_at: Num;
};

export type ProcessorRow = {
  id: string;
  name: string;
  role: string;
  purposes: string;
  categories: string;
  country: string | null;
  webhook_url: string | null;
  active: Num;
  created_at: Num;
};

export type ShareLogRow = {
  id: string;
  ts: Num;
  recipient: string;
  purpose: string;
  categories: string;
  records: Num;
  reason: string;
  subject_id: string | null;
};

export type RetentionPolicyRow = { data_class: string; ttl_days: Num; updated_at: Num };

export type RetentionRollupRow = {
  day: Num;
  data_class: string;
  type: string;
  source_id: string;
  category: string;
  events: Num;
  subjects: Num;
  revenue: number;
};

export type RetentionRunRow = { id: string; ran_at: Num; data_class: string; before_ts: Num; deleted: Num };

/** A digest of an erased subject's pseudonym, for a while after the erasure (erased-subjects.ts). */
export type ErasedRow = { erased_key: string; erased_at: Num; completed_at: Num | null };

export type PrivacyTables = {
  dsar_requests: DsarRequestRow;
  dsar_request_subjects: DsarRequestSubjectRow;
  dsar_verifications: DsarVerificationRow;
  dsar_targets: DsarTargetRow;
  privacy_processors: ProcessorRow;
  privacy_share_log: ShareLogRow;
  privacy_erased: ErasedRow;
  retention_policies: RetentionPolicyRow;
  retention_rollups: RetentionRollupRow;
  retention_runs: RetentionRunRow;
};

export function privacyDb(store: StateStore): Kysely<PrivacyTables> {
  return store.db as Kysely<PrivacyTables>;
}

export function privacyMigrations(dialect: StateDialect): Record<string, Migration> {
  const t = columnTypes(dialect);
  return {
    'privacy-0001-dsar': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('dsar_requests')
          .ifNotExists()
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('jurisdiction', 'text', (c) => c.notNull())
          .addColumn('channel', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('received_at', t.ts, (c) => c.notNull())
          .addColumn('deadline_at', t.ts, (c) => c.notNull())
          .addColumn('verified_at', t.ts)
          .addColumn('verified_by', 'text')
          .addColumn('approved_by', 'text')
          .addColumn('completed_at', t.ts)
          .addColumn('receipt', t.json)
          .addColumn('note', 'text')
          .execute();
        await db.schema
          .createIndex('dsar_requests_status')
          .ifNotExists()
          .on('dsar_requests')
          .columns(['status', 'deadline_at'])
          .execute();
        await db.schema
          .createTable('dsar_request_subjects')
          .ifNotExists()
          .addColumn('request_id', 'text', (c) => c.notNull())
          .addColumn('subject_id', 'text', (c) => c.notNull())
          .addColumn('is_user', t.bool, (c) => c.notNull().defaultTo(0))
          .addPrimaryKeyConstraint('dsar_request_subjects_pk', ['request_id', 'subject_id'])
          .execute();
        await db.schema
          .createIndex('dsar_request_subjects_subject')
          .ifNotExists()
          .on('dsar_request_subjects')
          .column('subject_id')
          .execute();
        await db.schema
          .createTable('dsar_verifications')
          .ifNotExists()
          .addColumn('request_id', 'text', (c) => c.primaryKey())
          .addColumn('code_hash', 'text', (c) => c.notNull())
          .addColumn('expires_at', t.ts, (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('max_attempts', 'integer', (c) => c.notNull())
          .addColumn('created_at', t.ts, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('dsar_targets')
          .ifNotExists()
          .addColumn('request_id', 'text', (c) => c.notNull())
          .addColumn('target', 'text', (c) => c.notNull())
          .addColumn('seq', 'integer', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('deleted', t.bigint, (c) => c.notNull().defaultTo(0))
          .addColumn('legal_holds', t.json)
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('last_error', 'text')
          .addColumn('updated_at', t.ts, (c) => c.notNull())
          .addPrimaryKeyConstraint('dsar_targets_pk', ['request_id', 'target'])
          .execute();
      },
    },
    'privacy-0002-processing-record': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('privacy_processors')
          .ifNotExists()
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull().unique())
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('purposes', t.json, (c) => c.notNull())
          .addColumn('categories', t.json, (c) => c.notNull())
          .addColumn('country', 'text')
          .addColumn('webhook_url', 'text')
          .addColumn('active', t.bool, (c) => c.notNull().defaultTo(1))
          .addColumn('created_at', t.ts, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('privacy_share_log')
          .ifNotExists()
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('ts', t.ts, (c) => c.notNull())
          .addColumn('recipient', 'text', (c) => c.notNull())
          .addColumn('purpose', 'text', (c) => c.notNull())
          .addColumn('categories', t.json, (c) => c.notNull())
          .addColumn('records', t.bigint, (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('subject_id', 'text')
          .execute();
        await db.schema
          .createIndex('privacy_share_log_subject')
          .ifNotExists()
          .on('privacy_share_log')
          .column('subject_id')
          .execute();
      },
    },
    'privacy-0003-retention': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('retention_policies')
          .ifNotExists()
          .addColumn('data_class', 'text', (c) => c.primaryKey())
          .addColumn('ttl_days', 'integer', (c) => c.notNull())
          .addColumn('updated_at', t.ts, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('retention_rollups')
          .ifNotExists()
          .addColumn('day', t.ts, (c) => c.notNull())
          .addColumn('data_class', 'text', (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('source_id', 'text', (c) => c.notNull())
          .addColumn('category', 'text', (c) => c.notNull())
          .addColumn('events', t.bigint, (c) => c.notNull())
          .addColumn('subjects', t.bigint, (c) => c.notNull())
          .addColumn('revenue', t.real, (c) => c.notNull())
          .addPrimaryKeyConstraint('retention_rollups_pk', [
            'day',
            'data_class',
            'type',
            'source_id',
            'category',
          ])
          .execute();
        await db.schema
          .createTable('retention_runs')
          .ifNotExists()
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('ran_at', t.ts, (c) => c.notNull())
          .addColumn('data_class', 'text', (c) => c.notNull())
          .addColumn('before_ts', t.ts, (c) => c.notNull())
          .addColumn('deleted', t.bigint, (c) => c.notNull())
          .execute();
      },
    },
    ...eventPurgeMigrations(dialect),
    'privacy-0005-dsar-locale': {
      async up(db: Kysely<unknown>) {
        // The language a one-time code is sent in, kept for a resend from the staff queue.
        await db.schema.alterTable('dsar_requests').addColumn('locale', 'text').execute();
      },
    },
    'privacy-0006-erased': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('privacy_erased')
          .ifNotExists()
          .addColumn('erased_key', 'text', (c) => c.primaryKey())
          .addColumn('erased_at', t.ts, (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('privacy_erased_at')
          .ifNotExists()
          .on('privacy_erased')
          .column('erased_at')
          .execute();
      },
    },
    'privacy-0007-erased-completed': {
      async up(db: Kysely<unknown>) {
        // When the erasure finished: ingestion takes back only what was prepared before that.
        await db.schema.alterTable('privacy_erased').addColumn('completed_at', t.ts).execute();
      },
    },
  };
}
