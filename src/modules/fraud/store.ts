/**
 * Fraud tables on the state store port (SQLite and PostgreSQL, one migration). Identifiers are never stored
 * raw: card fingerprints, e-mail addresses, IPs, devices and shipping addresses appear only as HMAC pseudonyms
 * (`key_hash`, namespaced per kind), and customers/devices as the same subject pseudonyms the rest of Candor
 * uses, so erasure finds every row by `subject_id` / `device_subject`.
 */
import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { columnTypes, stateDialectOf, tablesOf } from '../../storage/column-types.ts';
import type { StateStore } from '../../storage/ports.ts';

/** One attempt seen on one key (card, e-mail, device, IP, shipping address), for velocity and card testing. */
export type VelocityRow = {
  key_hash: string;
  kind: string;
  order_id: string;
  subject_id: string | null;
  ts: number | string;
  amount: number | string;
  declined: number;
};

/** Running aggregates per key: customer history, category history, seen devices/addresses/coupons, claims. */
export type EntityRow = {
  key_hash: string;
  kind: string;
  subject_id: string | null;
  first_seen: number | string;
  last_seen: number | string;
  orders: number | string;
  amount_sum: number;
  amount_sumsq: number;
  purchase_amount: number | string;
  refunds: number | string;
  refund_amount: number | string;
  returns: number | string;
  claims: number | string;
};

export type ScoreRow = {
  order_id: string;
  subject_id: string | null;
  device_subject: string | null;
  ts: number | string;
  score: number | string;
  decision: string;
  model_probability: number;
  reasons: string;
  /** Feature values (JSON), for the rules dry-run and training; no raw identifiers. */
  features: string;
  /** Hashed keys of the order (JSON), so later outcomes update the right aggregates. */
  keys: string;
  model_version: string;
  rules_version: number | string;
  label: number | null;
  label_source: string | null;
  labelled_at: number | string | null;
};

export type CaseRow = {
  id: string;
  order_id: string | null;
  subject_id: string | null;
  source: string;
  status: string;
  score: number | string | null;
  reasons: string;
  report_kind: string | null;
  created_at: number | string;
  decided_at: number | string | null;
  decided_by: string | null;
  decision_reasons: string | null;
};

export type RulesRow = {
  version: number | string;
  rules: string;
  created_at: number | string;
  created_by: string;
};

export type ModelRow = {
  id: string;
  created_at: number | string;
  model: string;
  metrics: string;
  active: number;
};

export type FraudTables = {
  fraud_velocity: VelocityRow;
  fraud_entities: EntityRow;
  fraud_scores: ScoreRow;
  fraud_cases: CaseRow;
  fraud_rules: RulesRow;
  fraud_models: ModelRow;
};

export const fraudDb = (store: StateStore): Kysely<FraudTables> => tablesOf<FraudTables>(store);

export const fraudMigrations: Record<string, Migration> = {
  'fraud-0001-tables': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run before the typed view exists
    up: async (db: Kysely<any>) => {
      const t = columnTypes(stateDialectOf(db));
      await db.schema
        .createTable('fraud_velocity')
        .ifNotExists()
        .addColumn('key_hash', t.text, (c) => c.notNull())
        .addColumn('kind', t.text, (c) => c.notNull())
        .addColumn('order_id', t.text, (c) => c.notNull())
        .addColumn('subject_id', t.text)
        .addColumn('ts', t.ts, (c) => c.notNull())
        .addColumn('amount', t.bigint, (c) => c.notNull())
        .addColumn('declined', t.bool, (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createIndex('fraud_velocity_key_ts')
        .ifNotExists()
        .on('fraud_velocity')
        .columns(['key_hash', 'ts'])
        .execute();
      await db.schema
        .createIndex('fraud_velocity_order')
        .ifNotExists()
        .on('fraud_velocity')
        .column('order_id')
        .execute();
      await db.schema
        .createIndex('fraud_velocity_subject')
        .ifNotExists()
        .on('fraud_velocity')
        .column('subject_id')
        .execute();
      await db.schema
        .createIndex('fraud_velocity_ts')
        .ifNotExists()
        .on('fraud_velocity')
        .column('ts')
        .execute();
      await db.schema
        .createTable('fraud_entities')
        .ifNotExists()
        .addColumn('key_hash', t.text, (c) => c.primaryKey())
        .addColumn('kind', t.text, (c) => c.notNull())
        .addColumn('subject_id', t.text)
        .addColumn('first_seen', t.ts, (c) => c.notNull())
        .addColumn('last_seen', t.ts, (c) => c.notNull())
        .addColumn('orders', t.bigint, (c) => c.notNull().defaultTo(0))
        .addColumn('amount_sum', t.real, (c) => c.notNull().defaultTo(0))
        .addColumn('amount_sumsq', t.real, (c) => c.notNull().defaultTo(0))
        .addColumn('purchase_amount', t.bigint, (c) => c.notNull().defaultTo(0))
        .addColumn('refunds', t.bigint, (c) => c.notNull().defaultTo(0))
        .addColumn('refund_amount', t.bigint, (c) => c.notNull().defaultTo(0))
        .addColumn('returns', t.bigint, (c) => c.notNull().defaultTo(0))
        .addColumn('claims', t.bigint, (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createIndex('fraud_entities_subject')
        .ifNotExists()
        .on('fraud_entities')
        .column('subject_id')
        .execute();
      await db.schema
        .createIndex('fraud_entities_last_seen')
        .ifNotExists()
        .on('fraud_entities')
        .column('last_seen')
        .execute();
      await db.schema
        .createTable('fraud_scores')
        .ifNotExists()
        .addColumn('order_id', t.text, (c) => c.primaryKey())
        .addColumn('subject_id', t.text)
        .addColumn('device_subject', t.text)
        .addColumn('ts', t.ts, (c) => c.notNull())
        .addColumn('score', t.bigint, (c) => c.notNull())
        .addColumn('decision', t.text, (c) => c.notNull())
        .addColumn('model_probability', t.real, (c) => c.notNull())
        .addColumn('reasons', t.json, (c) => c.notNull())
        .addColumn('features', t.json, (c) => c.notNull())
        .addColumn('keys', t.json, (c) => c.notNull())
        .addColumn('model_version', t.text, (c) => c.notNull())
        .addColumn('rules_version', t.bigint, (c) => c.notNull())
        .addColumn('label', t.bool)
        .addColumn('label_source', t.text)
        .addColumn('labelled_at', t.ts)
        .execute();
      await db.schema.createIndex('fraud_scores_ts').ifNotExists().on('fraud_scores').column('ts').execute();
      await db.schema
        .createIndex('fraud_scores_subject')
        .ifNotExists()
        .on('fraud_scores')
        .column('subject_id')
        .execute();
      await db.schema
        .createIndex('fraud_scores_device')
        .ifNotExists()
        .on('fraud_scores')
        .column('device_subject')
        .execute();
      await db.schema
        .createTable('fraud_cases')
        .ifNotExists()
        .addColumn('id', t.text, (c) => c.primaryKey())
        .addColumn('order_id', t.text)
        .addColumn('subject_id', t.text)
        .addColumn('source', t.text, (c) => c.notNull())
        .addColumn('status', t.text, (c) => c.notNull())
        .addColumn('score', t.bigint)
        .addColumn('reasons', t.json, (c) => c.notNull())
        .addColumn('report_kind', t.text)
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .addColumn('decided_at', t.ts)
        .addColumn('decided_by', t.text)
        .addColumn('decision_reasons', t.json)
        .execute();
      await db.schema
        .createIndex('fraud_cases_status')
        .ifNotExists()
        .on('fraud_cases')
        .columns(['status', 'created_at'])
        .execute();
      await db.schema
        .createIndex('fraud_cases_order')
        .ifNotExists()
        .on('fraud_cases')
        .column('order_id')
        .execute();
      await db.schema
        .createIndex('fraud_cases_subject')
        .ifNotExists()
        .on('fraud_cases')
        .column('subject_id')
        .execute();
      await db.schema
        .createTable('fraud_rules')
        .ifNotExists()
        .addColumn('version', t.bigint, (c) => c.primaryKey())
        .addColumn('rules', t.json, (c) => c.notNull())
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .addColumn('created_by', t.text, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('fraud_models')
        .ifNotExists()
        .addColumn('id', t.text, (c) => c.primaryKey())
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .addColumn('model', t.json, (c) => c.notNull())
        .addColumn('metrics', t.json, (c) => c.notNull())
        .addColumn('active', t.bool, (c) => c.notNull().defaultTo(0))
        .execute();
    },
  },
};

/** Adds to an entity's counters, creating it on first sight (one statement on both dialects). */
export async function bumpEntity(
  db: Kysely<FraudTables>,
  row: {
    key_hash: string;
    kind: string;
    subject_id: string | null;
    ts: number;
    orders?: number;
    amount?: number;
    refunds?: number;
    refund_amount?: number;
    returns?: number;
    claims?: number;
  },
): Promise<void> {
  const orders = row.orders ?? 0;
  const amount = row.amount ?? 0;
  await db
    .insertInto('fraud_entities')
    .values({
      key_hash: row.key_hash,
      kind: row.kind,
      subject_id: row.subject_id,
      first_seen: row.ts,
      last_seen: row.ts,
      orders,
      amount_sum: orders > 0 ? amount : 0,
      amount_sumsq: orders > 0 ? amount * amount : 0,
      purchase_amount: orders > 0 ? amount : 0,
      refunds: row.refunds ?? 0,
      refund_amount: row.refund_amount ?? 0,
      returns: row.returns ?? 0,
      claims: row.claims ?? 0,
    })
    .onConflict((oc) =>
      oc.column('key_hash').doUpdateSet({
        last_seen: sql<number>`case when excluded.last_seen > fraud_entities.last_seen then excluded.last_seen else fraud_entities.last_seen end`,
        orders: sql<number>`fraud_entities.orders + excluded.orders`,
        amount_sum: sql<number>`fraud_entities.amount_sum + excluded.amount_sum`,
        amount_sumsq: sql<number>`fraud_entities.amount_sumsq + excluded.amount_sumsq`,
        purchase_amount: sql<number>`fraud_entities.purchase_amount + excluded.purchase_amount`,
        refunds: sql<number>`fraud_entities.refunds + excluded.refunds`,
        refund_amount: sql<number>`fraud_entities.refund_amount + excluded.refund_amount`,
        returns: sql<number>`fraud_entities.returns + excluded.returns`,
        claims: sql<number>`fraud_entities.claims + excluded.claims`,
      }),
    )
    .execute();
}
