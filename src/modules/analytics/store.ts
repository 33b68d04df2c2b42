/**
 * The analytics module's own table: the differential-privacy budget ledger (state store). Every released
 * differentially private answer is a row: what was asked (a hash of the canonical query), when, by whom
 * (a staff or key id, never personal data), the ε it spent and the answer itself, so asking the same
 * question again returns the same noisy answer for free instead of spending budget and averaging noise away.
 */
import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { columnTypes, stateDialectOf, tablesOf } from '../../storage/column-types.ts';
import type { StateStore } from '../../storage/ports.ts';

export type LedgerRow = {
  id: string;
  ts: number | string | bigint;
  query_key: string;
  kind: string;
  epsilon: number;
  actor: string;
  answer: string;
};

export type AnalyticsTables = { analytics_dp_ledger: LedgerRow };

export const analyticsMigrations: Record<string, Migration> = {
  'analytics-0001-dp-ledger': {
    async up(db: Kysely<unknown>) {
      const t = columnTypes(stateDialectOf(db));
      await db.schema
        .createTable('analytics_dp_ledger')
        .ifNotExists()
        .addColumn('id', t.text, (c) => c.primaryKey())
        .addColumn('ts', t.ts, (c) => c.notNull())
        .addColumn('query_key', t.text, (c) => c.notNull().unique())
        .addColumn('kind', t.text, (c) => c.notNull())
        .addColumn('epsilon', t.real, (c) => c.notNull())
        .addColumn('actor', t.text, (c) => c.notNull())
        .addColumn('answer', t.json, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('analytics_dp_ledger_ts')
        .ifNotExists()
        .on('analytics_dp_ledger')
        .column('ts')
        .execute();
    },
  },
};

export function analyticsDb(state: StateStore): Kysely<AnalyticsTables> {
  return tablesOf<AnalyticsTables>(state);
}

/** An arbitrary constant naming the ledger's advisory lock on PostgreSQL ("ADPL"). */
const LEDGER_LOCK_KEY = 0x4144504c;

/**
 * Serialises budget decisions: PostgreSQL takes a transaction-scoped advisory lock (several API processes);
 * on SQLite the single-writer transaction already is the lock.
 */
export async function lockLedger(state: StateStore, trx: Kysely<AnalyticsTables>): Promise<void> {
  if (state.dialect === 'postgres') await sql`select pg_advisory_xact_lock(${LEDGER_LOCK_KEY})`.execute(trx);
}
