/**
 * Marketing tables on the state store port (SQLite and PostgreSQL, same migrations): experiments with their
 * exposures and outcomes, and the loyalty ledger. Shoppers appear only as the subject pseudonyms the rest of
 * Candor uses, so export and erasure find every row by `subject_id`.
 */
import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { columnTypes, stateDialectOf, tablesOf } from '../../storage/column-types.ts';
import type { StateStore } from '../../storage/ports.ts';

type Num = number | string;

export type ExperimentRow = {
  id: string;
  key: string;
  name: string;
  layer: string;
  salt: string;
  status: string;
  /** JSON: [{ key, weight }], the first is the control. */
  variants: string;
  /** JSON: metric definitions. */
  metrics: string;
  /** Share of the layer's buckets [bucket_start, bucket_end) out of 10,000 this experiment owns. */
  bucket_start: Num;
  bucket_end: Num;
  mode: string;
  alpha: number;
  created_at: Num;
  started_at: Num | null;
  stopped_at: Num | null;
};

export type ExposureRow = {
  experiment_id: string;
  subject_id: string;
  variant: string;
  exposed_at: Num;
};

/** One subject's accumulated value of one metric in one experiment (and its pre-period value, for CUPED). */
export type OutcomeRow = {
  experiment_id: string;
  subject_id: string;
  metric: string;
  value: number;
  pre_value: number | null;
  updated_at: Num;
};

/** Running minimum of the always-valid p-value per experiment, metric and variant. */
export type MonitorRow = {
  experiment_id: string;
  metric: string;
  variant: string;
  min_p: number;
  looks: Num;
  updated_at: Num;
};

export type LoyaltyAccountRow = { subject_id: string; balance: Num; updated_at: Num };

export type LoyaltyTransactionRow = {
  id: string;
  subject_id: string;
  idempotency_key: string;
  kind: string;
  /** Signed change of the shopper's balance (positive earn, negative spend). */
  points: Num;
  status: string;
  reference: string | null;
  reason: string | null;
  expires_at: Num | null;
  reverses_id: string | null;
  created_at: Num;
};

/** Double-entry: the postings of one transaction sum to zero across accounts. */
export type LoyaltyPostingRow = {
  txn_id: string;
  account: string;
  subject_id: string | null;
  amount: Num;
  created_at: Num;
};

export type LoyaltyCouponRow = {
  code: string;
  subject_id: string;
  txn_id: string;
  points: Num;
  value_minor: Num;
  currency: string;
  created_at: Num;
};

export type SegmentRow = {
  id: string;
  key: string;
  name: string;
  /** JSON: the rule tree (see segments.service.ts). */
  rule: string;
  /** 1 when the rule reads profile data: only personalised shoppers may be members. */
  profile_based: Num;
  size: Num;
  created_at: Num;
  refreshed_at: Num | null;
};

export type SegmentMemberRow = { segment_id: string; subject_id: string; added_at: Num };

export type CampaignRow = {
  id: string;
  key: string;
  name: string;
  segment_id: string;
  channel: string;
  /** JSON: { subject: {en,id?,zh?}, text: {en,id?,zh?} }. */
  template: string;
  holdout: number;
  cap_count: Num;
  cap_days: Num;
  quiet_start: Num | null;
  quiet_end: Num | null;
  time_zone: string;
  webhook_url: string | null;
  window_days: Num;
  status: string;
  created_at: Num;
  started_at: Num | null;
  finished_at: Num | null;
};

/** One recipient of one campaign: the unique (campaign, subject) pair is what makes sends idempotent. */
export type CampaignSendRow = {
  id: string;
  campaign_id: string;
  subject_id: string;
  grp: string;
  status: string;
  reason: string | null;
  attempts: Num;
  planned_at: Num;
  claimed_at: Num | null;
  sent_at: Num | null;
  message_id: string | null;
};

export type SuppressionRow = { subject_id: string; channel: string; reason: string; created_at: Num };

export type MarketingTables = {
  mkt_segments: SegmentRow;
  mkt_segment_members: SegmentMemberRow;
  mkt_campaigns: CampaignRow;
  mkt_campaign_sends: CampaignSendRow;
  mkt_suppressions: SuppressionRow;
  mkt_experiments: ExperimentRow;
  mkt_exposures: ExposureRow;
  mkt_outcomes: OutcomeRow;
  mkt_monitor: MonitorRow;
  loyalty_accounts: LoyaltyAccountRow;
  loyalty_transactions: LoyaltyTransactionRow;
  loyalty_postings: LoyaltyPostingRow;
  loyalty_coupons: LoyaltyCouponRow;
};

export const marketingDb = (store: StateStore): Kysely<MarketingTables> => tablesOf<MarketingTables>(store);

export const marketingMigrations: Record<string, Migration> = {
  'marketing-0001-experiments': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run before the typed view exists
    up: async (db: Kysely<any>) => {
      const t = columnTypes(stateDialectOf(db));
      await db.schema
        .createTable('mkt_experiments')
        .ifNotExists()
        .addColumn('id', t.text, (c) => c.primaryKey())
        .addColumn('key', t.text, (c) => c.notNull().unique())
        .addColumn('name', t.text, (c) => c.notNull())
        .addColumn('layer', t.text, (c) => c.notNull())
        .addColumn('salt', t.text, (c) => c.notNull())
        .addColumn('status', t.text, (c) => c.notNull())
        .addColumn('variants', t.json, (c) => c.notNull())
        .addColumn('metrics', t.json, (c) => c.notNull())
        .addColumn('bucket_start', t.bigint, (c) => c.notNull())
        .addColumn('bucket_end', t.bigint, (c) => c.notNull())
        .addColumn('mode', t.text, (c) => c.notNull())
        .addColumn('alpha', t.real, (c) => c.notNull())
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .addColumn('started_at', t.ts)
        .addColumn('stopped_at', t.ts)
        .execute();
      await db.schema
        .createTable('mkt_exposures')
        .ifNotExists()
        .addColumn('experiment_id', t.text, (c) => c.notNull())
        .addColumn('subject_id', t.text, (c) => c.notNull())
        .addColumn('variant', t.text, (c) => c.notNull())
        .addColumn('exposed_at', t.ts, (c) => c.notNull())
        .addPrimaryKeyConstraint('mkt_exposures_pk', ['experiment_id', 'subject_id'])
        .execute();
      await db.schema
        .createIndex('mkt_exposures_subject')
        .ifNotExists()
        .on('mkt_exposures')
        .column('subject_id')
        .execute();
      await db.schema
        .createTable('mkt_outcomes')
        .ifNotExists()
        .addColumn('experiment_id', t.text, (c) => c.notNull())
        .addColumn('subject_id', t.text, (c) => c.notNull())
        .addColumn('metric', t.text, (c) => c.notNull())
        .addColumn('value', t.real, (c) => c.notNull())
        .addColumn('pre_value', t.real)
        .addColumn('updated_at', t.ts, (c) => c.notNull())
        .addPrimaryKeyConstraint('mkt_outcomes_pk', ['experiment_id', 'subject_id', 'metric'])
        .execute();
      await db.schema
        .createIndex('mkt_outcomes_subject')
        .ifNotExists()
        .on('mkt_outcomes')
        .column('subject_id')
        .execute();
      await db.schema
        .createTable('mkt_monitor')
        .ifNotExists()
        .addColumn('experiment_id', t.text, (c) => c.notNull())
        .addColumn('metric', t.text, (c) => c.notNull())
        .addColumn('variant', t.text, (c) => c.notNull())
        .addColumn('min_p', t.real, (c) => c.notNull())
        .addColumn('looks', t.bigint, (c) => c.notNull())
        .addColumn('updated_at', t.ts, (c) => c.notNull())
        .addPrimaryKeyConstraint('mkt_monitor_pk', ['experiment_id', 'metric', 'variant'])
        .execute();
    },
  },
  'marketing-0002-loyalty': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run before the typed view exists
    up: async (db: Kysely<any>) => {
      const t = columnTypes(stateDialectOf(db));
      await db.schema
        .createTable('loyalty_accounts')
        .ifNotExists()
        .addColumn('subject_id', t.text, (c) => c.primaryKey())
        .addColumn('balance', t.bigint, (c) => c.notNull().check(sql`balance >= 0`))
        .addColumn('updated_at', t.ts, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('loyalty_transactions')
        .ifNotExists()
        .addColumn('id', t.text, (c) => c.primaryKey())
        .addColumn('subject_id', t.text, (c) => c.notNull())
        .addColumn('idempotency_key', t.text, (c) => c.notNull().unique())
        .addColumn('kind', t.text, (c) => c.notNull())
        .addColumn('points', t.bigint, (c) => c.notNull())
        .addColumn('status', t.text, (c) => c.notNull())
        .addColumn('reference', t.text)
        .addColumn('reason', t.text)
        .addColumn('expires_at', t.ts)
        .addColumn('reverses_id', t.text)
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('loyalty_transactions_subject')
        .ifNotExists()
        .on('loyalty_transactions')
        .columns(['subject_id', 'created_at'])
        .execute();
      await db.schema
        .createIndex('loyalty_transactions_reference')
        .ifNotExists()
        .on('loyalty_transactions')
        .column('reference')
        .execute();
      await db.schema
        .createTable('loyalty_postings')
        .ifNotExists()
        .addColumn('txn_id', t.text, (c) => c.notNull())
        .addColumn('account', t.text, (c) => c.notNull())
        .addColumn('subject_id', t.text)
        .addColumn('amount', t.bigint, (c) => c.notNull())
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('loyalty_postings_txn')
        .ifNotExists()
        .on('loyalty_postings')
        .column('txn_id')
        .execute();
      await db.schema
        .createIndex('loyalty_postings_subject')
        .ifNotExists()
        .on('loyalty_postings')
        .column('subject_id')
        .execute();
      await db.schema
        .createTable('loyalty_coupons')
        .ifNotExists()
        .addColumn('code', t.text, (c) => c.primaryKey())
        .addColumn('subject_id', t.text, (c) => c.notNull())
        .addColumn('txn_id', t.text, (c) => c.notNull())
        .addColumn('points', t.bigint, (c) => c.notNull())
        .addColumn('value_minor', t.bigint, (c) => c.notNull())
        .addColumn('currency', t.text, (c) => c.notNull())
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('loyalty_coupons_subject')
        .ifNotExists()
        .on('loyalty_coupons')
        .column('subject_id')
        .execute();
    },
  },
  'marketing-0003-segments-campaigns': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run before the typed view exists
    up: async (db: Kysely<any>) => {
      const t = columnTypes(stateDialectOf(db));
      await db.schema
        .createTable('mkt_segments')
        .ifNotExists()
        .addColumn('id', t.text, (c) => c.primaryKey())
        .addColumn('key', t.text, (c) => c.notNull().unique())
        .addColumn('name', t.text, (c) => c.notNull())
        .addColumn('rule', t.json, (c) => c.notNull())
        .addColumn('profile_based', t.bool, (c) => c.notNull())
        .addColumn('size', t.bigint, (c) => c.notNull())
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .addColumn('refreshed_at', t.ts)
        .execute();
      await db.schema
        .createTable('mkt_segment_members')
        .ifNotExists()
        .addColumn('segment_id', t.text, (c) => c.notNull())
        .addColumn('subject_id', t.text, (c) => c.notNull())
        .addColumn('added_at', t.ts, (c) => c.notNull())
        .addPrimaryKeyConstraint('mkt_segment_members_pk', ['segment_id', 'subject_id'])
        .execute();
      await db.schema
        .createIndex('mkt_segment_members_subject')
        .ifNotExists()
        .on('mkt_segment_members')
        .column('subject_id')
        .execute();
      await db.schema
        .createTable('mkt_campaigns')
        .ifNotExists()
        .addColumn('id', t.text, (c) => c.primaryKey())
        .addColumn('key', t.text, (c) => c.notNull().unique())
        .addColumn('name', t.text, (c) => c.notNull())
        .addColumn('segment_id', t.text, (c) => c.notNull())
        .addColumn('channel', t.text, (c) => c.notNull())
        .addColumn('template', t.json, (c) => c.notNull())
        .addColumn('holdout', t.real, (c) => c.notNull())
        .addColumn('cap_count', t.bigint, (c) => c.notNull())
        .addColumn('cap_days', t.bigint, (c) => c.notNull())
        .addColumn('quiet_start', t.bigint)
        .addColumn('quiet_end', t.bigint)
        .addColumn('time_zone', t.text, (c) => c.notNull())
        .addColumn('webhook_url', t.text)
        .addColumn('window_days', t.bigint, (c) => c.notNull())
        .addColumn('status', t.text, (c) => c.notNull())
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .addColumn('started_at', t.ts)
        .addColumn('finished_at', t.ts)
        .execute();
      await db.schema
        .createTable('mkt_campaign_sends')
        .ifNotExists()
        .addColumn('id', t.text, (c) => c.primaryKey())
        .addColumn('campaign_id', t.text, (c) => c.notNull())
        .addColumn('subject_id', t.text, (c) => c.notNull())
        .addColumn('grp', t.text, (c) => c.notNull())
        .addColumn('status', t.text, (c) => c.notNull())
        .addColumn('reason', t.text)
        .addColumn('attempts', t.bigint, (c) => c.notNull())
        .addColumn('planned_at', t.ts, (c) => c.notNull())
        .addColumn('claimed_at', t.ts)
        .addColumn('sent_at', t.ts)
        .addColumn('message_id', t.text)
        .addUniqueConstraint('mkt_campaign_sends_recipient', ['campaign_id', 'subject_id'])
        .execute();
      await db.schema
        .createIndex('mkt_campaign_sends_subject')
        .ifNotExists()
        .on('mkt_campaign_sends')
        .columns(['subject_id', 'sent_at'])
        .execute();
      await db.schema
        .createTable('mkt_suppressions')
        .ifNotExists()
        .addColumn('subject_id', t.text, (c) => c.notNull())
        .addColumn('channel', t.text, (c) => c.notNull())
        .addColumn('reason', t.text, (c) => c.notNull())
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .addPrimaryKeyConstraint('mkt_suppressions_pk', ['subject_id', 'channel'])
        .execute();
    },
  },
};
