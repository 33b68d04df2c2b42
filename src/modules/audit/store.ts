/**
 * The audit module's tables: `audit_entries` (the hash chain) and `audit_checkpoints` (signed heads).
 * Rows are only ever inserted; nothing in Candor updates or deletes them.
 */
import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { StateStore } from '../../storage/ports.ts';

export type AuditEntryRow = {
  seq: number | string | bigint;
  ts: number | string | bigint;
  actor: string;
  action: string;
  target: string | null;
  purpose: string | null;
  outcome: string;
  details: string | null;
  prev_hash: string;
  hash: string;
};

export type AuditCheckpointRow = {
  seq: number | string | bigint;
  ts: number | string | bigint;
  hash: string;
  signature: string;
  public_key: string;
};

export type AuditTables = { audit_entries: AuditEntryRow; audit_checkpoints: AuditCheckpointRow };

export const auditMigrations: Record<string, Migration> = {
  'audit-0001-chain': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('audit_entries')
        .ifNotExists()
        .addColumn('seq', 'bigint', (c) => c.primaryKey())
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text')
        .addColumn('purpose', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('details', 'text')
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('audit_entries_action')
        .ifNotExists()
        .on('audit_entries')
        .columns(['action', 'seq'])
        .execute();
      await db.schema
        .createIndex('audit_entries_actor')
        .ifNotExists()
        .on('audit_entries')
        .columns(['actor', 'seq'])
        .execute();
      await db.schema
        .createTable('audit_checkpoints')
        .ifNotExists()
        .addColumn('seq', 'bigint', (c) => c.primaryKey())
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('signature', 'text', (c) => c.notNull())
        .addColumn('public_key', 'text', (c) => c.notNull())
        .execute();
    },
  },
};

export function auditDb(store: StateStore): Kysely<AuditTables> {
  return store.db as Kysely<AuditTables>;
}

/**
 * Takes the chain's writer lock for the current transaction. PostgreSQL: a transaction-scoped advisory
 * lock, so API processes append one at a time and the chain never forks. SQLite: one process owns the
 * file and its driver runs one transaction at a time, so the transaction itself is the lock.
 */
export async function lockChain(store: StateStore, trx: Kysely<AuditTables>): Promise<void> {
  if (store.dialect === 'postgres') {
    await sql`select pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`.execute(trx);
  }
}

/** An arbitrary constant ("CAND") naming the audit writer's advisory lock. */
const AUDIT_LOCK_KEY = 0x43414e44;
