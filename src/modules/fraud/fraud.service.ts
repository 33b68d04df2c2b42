/**
 * The fraud service: scores orders at checkout, keeps the review queue, the versioned rules and the trained
 * model, takes outcomes (chargebacks, refunds, claims) as labels, and answers export/erasure for its tables.
 */
import type { Clock } from '../../kernel/clock.ts';
import type { Pseudonymizer } from '../../kernel/crypto.ts';
import { AppError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { StateStore } from '../../storage/ports.ts';
import {
  FEATURE_TYPES,
  type CatalogPrice,
  type FeatureSet,
  type FeatureValue,
  type OrderInput,
} from './features.ts';
import { keysOf, readHistory, recordAttempt, type OrderKeys } from './history.ts';
import { metricSet, type MetricSet } from './metrics.ts';
import { priorModel, predict, trainLogistic, type LogisticModel, type TrainingRow } from './model.ts';
import {
  applyRules,
  combine,
  compileRules,
  DEFAULT_RULES,
  type CompiledRule,
  type Decision,
  type Rule,
  type Thresholds,
} from './rules.ts';
import { scoreWith, type Reason } from './scoring.ts';
import { bumpEntity, fraudDb, type CaseRow, type ScoreRow } from './store.ts';

/** Catalogue prices by product id (the composition root adapts the catalog module to this). */
export type CatalogPrices = {
  prices(productIds: readonly string[]): Promise<ReadonlyMap<string, CatalogPrice>>;
};

export type FraudAuditWriter = {
  record(entry: {
    actor: string;
    action: string;
    target?: string | null;
    outcome: 'success' | 'failure' | 'denied';
    details?: Record<string, string | number | boolean | null>;
  }): Promise<void>;
};

export type FraudServiceDeps = {
  state: StateStore;
  clock: Clock;
  logger: Logger;
  pseudonymize: Pseudonymizer;
  catalog: CatalogPrices;
  audit: FraudAuditWriter;
};

export type FraudServiceConfig = {
  /** Scores at or above this go to review (default 60). */
  reviewThreshold?: number;
  /** Scores at or above this are declined, and still reach a human in the review queue (default 85). */
  declineThreshold?: number;
  /** Days scores, cases and aggregates are kept (default 395, about 13 months: one chargeback window and more). */
  retentionDays?: number;
  /** Labels needed before a training run replaces the prior model (default 30, with both outcomes present). */
  minTrainingLabels?: number;
};

export type ScoreResponse = {
  orderId: string;
  score: number;
  decision: Decision;
  reasons: Reason[];
  caseId: string | null;
  modelVersion: string;
  rulesVersion: number;
};

export const CASE_SOURCES = ['score', 'shopper_report', 'alert'] as const;
export type CaseSource = (typeof CASE_SOURCES)[number];
export const CASE_STATUSES = ['open', 'approved', 'declined'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];
export const REPORT_KINDS = [
  'unrecognised_charge',
  'account_compromised',
  'item_not_received',
  'suspicious_message',
  'other',
] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];
export const REVIEW_REASONS = [
  'confirmed_fraud',
  'stolen_card',
  'account_takeover',
  'friendly_fraud',
  'price_tampering',
  'refund_abuse',
  'verified_customer',
  'false_positive',
  'other',
] as const;
export type ReviewReason = (typeof REVIEW_REASONS)[number];
export const OUTCOME_KINDS = ['chargeback', 'refund', 'return', 'not_received', 'legitimate'] as const;
export type OutcomeKind = (typeof OUTCOME_KINDS)[number];

export type FraudCase = {
  id: string;
  orderId: string | null;
  subjectId: string | null;
  source: CaseSource;
  status: CaseStatus;
  score: number | null;
  reasons: Reason[];
  reportKind: string | null;
  createdAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
  decisionReasons: string[];
};

const DAY = 86_400_000;
const CACHE_MS = 10_000;

function toCase(r: CaseRow): FraudCase {
  return {
    id: r.id,
    orderId: r.order_id,
    subjectId: r.subject_id,
    source: r.source as CaseSource,
    status: r.status as CaseStatus,
    score: r.score === null ? null : Number(r.score),
    reasons: JSON.parse(r.reasons) as Reason[],
    reportKind: r.report_kind,
    createdAt: new Date(Number(r.created_at)).toISOString(),
    decidedAt: r.decided_at === null ? null : new Date(Number(r.decided_at)).toISOString(),
    decidedBy: r.decided_by,
    decisionReasons: r.decision_reasons === null ? [] : (JSON.parse(r.decision_reasons) as string[]),
  };
}

export function createFraudService(deps: FraudServiceDeps, config: FraudServiceConfig = {}) {
  const db = fraudDb(deps.state);
  const thresholds: Thresholds = {
    review: config.reviewThreshold ?? 60,
    decline: config.declineThreshold ?? 85,
  };
  if (!(thresholds.review > 0 && thresholds.review < thresholds.decline && thresholds.decline <= 100)) {
    throw new AppError('config_invalid', 'Fraud thresholds need 0 < review < decline ≤ 100.');
  }
  const retentionMs = (config.retentionDays ?? 395) * DAY;
  const minLabels = config.minTrainingLabels ?? 30;

  // Rules and model change rarely and are read on every score: cached briefly (other processes pick up
  // changes within CACHE_MS).
  let rulesCache: { at: number; version: number; rules: Rule[]; compiled: CompiledRule[] } | null = null;
  let modelCache: { at: number; model: LogisticModel } | null = null;

  const currentRules = async () => {
    const now = Date.now();
    if (rulesCache && now - rulesCache.at < CACHE_MS) return rulesCache;
    const row = await db
      .selectFrom('fraud_rules')
      .selectAll()
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
    const rules = row ? (JSON.parse(row.rules) as Rule[]) : [...DEFAULT_RULES];
    rulesCache = { at: now, version: row ? Number(row.version) : 0, rules, compiled: compileRules(rules) };
    return rulesCache;
  };
  const currentModel = async () => {
    const now = Date.now();
    if (modelCache && now - modelCache.at < CACHE_MS) return modelCache.model;
    const row = await db
      .selectFrom('fraud_models')
      .select('model')
      .where('active', '=', 1)
      .orderBy('created_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    modelCache = { at: now, model: row ? (JSON.parse(row.model) as LogisticModel) : priorModel() };
    return modelCache.model;
  };

  const openCaseRow = async (
    row: Omit<CaseRow, 'id' | 'status' | 'decided_at' | 'decided_by' | 'decision_reasons'>,
  ) => {
    const id = newId('fcase');
    await db
      .insertInto('fraud_cases')
      .values({ ...row, id, status: 'open', decided_at: null, decided_by: null, decision_reasons: null })
      .execute();
    return id;
  };

  const saveRules = async (rules: Rule[], actor: string) => {
    compileRules(rules);
    const now = deps.clock.now().getTime();
    const version = await deps.state.transaction(async (trx) => {
      const tdb = trx as typeof db;
      const last = await tdb
        .selectFrom('fraud_rules')
        .select('version')
        .orderBy('version', 'desc')
        .limit(1)
        .executeTakeFirst();
      const v = (last ? Number(last.version) : 0) + 1;
      await tdb
        .insertInto('fraud_rules')
        .values({ version: v, rules: JSON.stringify(rules), created_at: now, created_by: actor })
        .execute();
      return v;
    });
    rulesCache = null;
    await deps.audit.record({
      actor,
      action: 'fraud.rules_change',
      target: `rules:${version}`,
      outcome: 'success',
      details: { rules: rules.length },
    });
    return { version, rules };
  };

  return {
    thresholds,

    /** Scores an order, records the attempt, and opens a review case for review/decline decisions. */
    async score(order: OrderInput): Promise<ScoreResponse> {
      const now = order.at ? Date.parse(order.at) : deps.clock.now().getTime();
      const productIds = [...new Set(order.items.map((i) => i.productId))];
      const [catalog, rules, model] = await Promise.all([
        productIds.length > 0
          ? deps.catalog.prices(productIds)
          : Promise.resolve(new Map<string, CatalogPrice>()),
        currentRules(),
        currentModel(),
      ]);
      const keys = keysOf(order, deps.pseudonymize, catalog);
      const history = await readHistory(db, keys, order.orderId, now);
      const result = scoreWith(order, history, catalog, now, model, rules.compiled, thresholds);
      const caseId = await deps.state.transaction(async (trx) => {
        const tdb = trx as typeof db;
        const previous = await tdb
          .selectFrom('fraud_scores')
          .select(['features'])
          .where('order_id', '=', order.orderId)
          .executeTakeFirst();
        // Aggregates count an order once, when it is first seen not declined (a declined attempt that is
        // retried and approved under the same order id counts then).
        const countIt =
          previous === undefined ||
          (JSON.parse(previous.features) as Record<string, FeatureValue>).auth_declined === true;
        await recordAttempt(tdb, keys, order, now, countIt);
        const row: ScoreRow = {
          order_id: order.orderId,
          subject_id: keys.subjectId,
          device_subject: keys.deviceSubject,
          ts: now,
          score: result.score,
          decision: result.decision,
          model_probability: result.probability,
          reasons: JSON.stringify(result.reasons),
          features: JSON.stringify(result.features.values),
          keys: JSON.stringify(keys),
          model_version: model.version,
          rules_version: rules.version,
          label: null,
          label_source: null,
          labelled_at: null,
        };
        await tdb
          .insertInto('fraud_scores')
          .values(row)
          .onConflict((oc) =>
            oc.column('order_id').doUpdateSet({
              ts: now,
              score: row.score,
              decision: row.decision,
              model_probability: row.model_probability,
              reasons: row.reasons,
              features: row.features,
              keys: row.keys,
              model_version: row.model_version,
              rules_version: row.rules_version,
            }),
          )
          .execute();
        if (result.decision === 'approve') return null;
        // Art. 22: a decision that would block a customer is put before a human.
        const open = await tdb
          .selectFrom('fraud_cases')
          .select('id')
          .where('order_id', '=', order.orderId)
          .where('status', '=', 'open')
          .executeTakeFirst();
        if (open) {
          await tdb
            .updateTable('fraud_cases')
            .set({ score: result.score, reasons: row.reasons })
            .where('id', '=', open.id)
            .execute();
          return open.id;
        }
        const id = newId('fcase');
        await tdb
          .insertInto('fraud_cases')
          .values({
            id,
            order_id: order.orderId,
            subject_id: keys.subjectId ?? keys.deviceSubject,
            source: 'score',
            status: 'open',
            score: result.score,
            reasons: row.reasons,
            report_kind: null,
            created_at: now,
            decided_at: null,
            decided_by: null,
            decision_reasons: null,
          })
          .execute();
        return id;
      });
      return {
        orderId: order.orderId,
        score: result.score,
        decision: result.decision,
        reasons: result.reasons,
        caseId,
        modelVersion: model.version,
        rulesVersion: rules.version,
      };
    },

    features: () => Object.entries(FEATURE_TYPES).map(([name, type]) => ({ name, type })),

    async getRules() {
      const r = await currentRules();
      return { version: r.version, rules: r.rules };
    },

    async ruleVersions(limit = 50) {
      const rows = await db
        .selectFrom('fraud_rules')
        .selectAll()
        .orderBy('version', 'desc')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        version: Number(r.version),
        createdAt: new Date(Number(r.created_at)).toISOString(),
        createdBy: r.created_by,
        rules: JSON.parse(r.rules) as Rule[],
      }));
    },

    saveRules,

    async addRule(rule: Rule, actor: string) {
      const { rules } = await currentRules();
      if (rules.some((r) => r.id === rule.id)) {
        throw new AppError(
          'conflict',
          `A rule with id '${rule.id}' exists; change it with PUT /v1/fraud/rules/${rule.id}.`,
        );
      }
      return saveRules([...rules, rule], actor);
    },

    async updateRule(id: string, rule: Omit<Rule, 'id'>, actor: string) {
      const { rules } = await currentRules();
      if (!rules.some((r) => r.id === id))
        throw new AppError('not_found', `No rule has id '${id}'. GET /v1/fraud/rules lists them.`);
      return saveRules(
        rules.map((r) => (r.id === id ? { ...rule, id } : r)),
        actor,
      );
    },

    async deleteRule(id: string, actor: string) {
      const { rules } = await currentRules();
      if (!rules.some((r) => r.id === id))
        throw new AppError('not_found', `No rule has id '${id}'. GET /v1/fraud/rules lists them.`);
      return saveRules(
        rules.filter((r) => r.id !== id),
        actor,
      );
    },

    /**
     * Replays a proposed rule set over the most recent scored orders (their stored features and model
     * probability) and reports what would change, with precision against the labels known so far.
     */
    async dryRun(rules: Rule[], options: { limit?: number } = {}) {
      const compiled = compileRules(rules);
      const limit = Math.min(Math.max(options.limit ?? 1000, 1), 10_000);
      const rows = await db
        .selectFrom('fraud_scores')
        .select(['order_id', 'decision', 'features', 'model_probability', 'label'])
        .orderBy('ts', 'desc')
        .limit(limit)
        .execute();
      const before = { approve: 0, review: 0, decline: 0 };
      const after = { approve: 0, review: 0, decline: 0 };
      const perRule = new Map(
        compiled.map((r) => [r.id, { id: r.id, matches: 0, labelledFraud: 0, labelledLegit: 0 }]),
      );
      const changed: { orderId: string; before: Decision; after: Decision; score: number }[] = [];
      for (const r of rows) {
        const values = JSON.parse(r.features) as Record<string, FeatureValue>;
        const outcome = applyRules(compiled, values);
        const { score, decision } = combine(Number(r.model_probability), outcome, thresholds);
        before[r.decision as Decision]++;
        after[decision]++;
        if (decision !== r.decision && changed.length < 100)
          changed.push({ orderId: r.order_id, before: r.decision as Decision, after: decision, score });
        for (const hit of outcome.hits) {
          const s = perRule.get(hit.id)!;
          s.matches++;
          if (r.label !== null && Number(r.label) === 1) s.labelledFraud++;
          if (r.label !== null && Number(r.label) === 0) s.labelledLegit++;
        }
      }
      return { evaluated: rows.length, decisions: { before, after }, rules: [...perRule.values()], changed };
    },

    async listCases(q: {
      status?: CaseStatus | undefined;
      limit?: number | undefined;
      cursor?: string | undefined;
    }) {
      const limit = Math.min(Math.max(q.limit ?? 50, 1), 500);
      let query = db
        .selectFrom('fraud_cases')
        .selectAll()
        .orderBy('id', 'desc')
        .limit(limit + 1);
      if (q.status) query = query.where('status', '=', q.status);
      if (q.cursor) query = query.where('id', '<', q.cursor);
      const rows = await query.execute();
      const cases = rows.slice(0, limit).map(toCase);
      return { cases, nextCursor: rows.length > limit ? (cases.at(-1)?.id ?? null) : null };
    },

    async getCase(id: string, actor: string) {
      const row = await db.selectFrom('fraud_cases').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row)
        throw new AppError('not_found', `No fraud case has id ${id}. GET /v1/fraud/cases lists them.`);
      const score = row.order_id
        ? await db
            .selectFrom('fraud_scores')
            .select(['score', 'decision', 'reasons', 'features', 'ts'])
            .where('order_id', '=', row.order_id)
            .executeTakeFirst()
        : undefined;
      await deps.audit.record({ actor, action: 'fraud.case_view', target: id, outcome: 'success' });
      return {
        ...toCase(row),
        order: score
          ? {
              score: Number(score.score),
              decision: score.decision,
              scoredAt: new Date(Number(score.ts)).toISOString(),
              features: JSON.parse(score.features) as Record<string, FeatureValue>,
            }
          : null,
      };
    },

    /** A reviewer's decision; it closes the case and becomes the order's label for the next training run. */
    async decideCase(
      id: string,
      input: { decision: 'approve' | 'decline'; reasons: ReviewReason[] },
      actor: string,
    ) {
      const now = deps.clock.now().getTime();
      const updated = await deps.state.transaction(async (trx) => {
        const tdb = trx as typeof db;
        const row = await tdb.selectFrom('fraud_cases').selectAll().where('id', '=', id).executeTakeFirst();
        if (!row)
          throw new AppError('not_found', `No fraud case has id ${id}. GET /v1/fraud/cases lists them.`);
        if (row.status !== 'open') {
          throw new AppError(
            'conflict',
            `Case ${id} was already ${row.status}; open a new case to revisit it.`,
          );
        }
        const status: CaseStatus = input.decision === 'approve' ? 'approved' : 'declined';
        await tdb
          .updateTable('fraud_cases')
          .set({
            status,
            decided_at: now,
            decided_by: actor,
            decision_reasons: JSON.stringify(input.reasons),
          })
          .where('id', '=', id)
          .execute();
        if (row.order_id) {
          // A chargeback is stronger evidence than a review: it is never overwritten.
          await tdb
            .updateTable('fraud_scores')
            .set({ label: input.decision === 'decline' ? 1 : 0, label_source: 'review', labelled_at: now })
            .where('order_id', '=', row.order_id)
            .where((eb) => eb.or([eb('label_source', 'is', null), eb('label_source', '=', 'review')]))
            .execute();
        }
        return {
          ...row,
          status,
          decided_at: now,
          decided_by: actor,
          decision_reasons: JSON.stringify(input.reasons),
        };
      });
      await deps.audit.record({
        actor,
        action: 'fraud.case_decision',
        target: id,
        outcome: 'success',
        details: { decision: input.decision, reasons: input.reasons.join(',') },
      });
      return toCase(updated);
    },

    /** Opens a case from a shopper's report (chatbot, privacy centre) or an alert. */
    async openCase(
      input: {
        source: 'shopper_report' | 'alert';
        kind: ReportKind;
        orderId?: string | undefined;
        userId?: string | undefined;
        subjectId?: string | undefined;
      },
      actor: string,
    ) {
      const now = deps.clock.now().getTime();
      const subject = input.subjectId ?? (input.userId ? deps.pseudonymize('user', input.userId) : null);
      const score = input.orderId
        ? await db
            .selectFrom('fraud_scores')
            .select(['score', 'reasons', 'subject_id'])
            .where('order_id', '=', input.orderId)
            .executeTakeFirst()
        : undefined;
      const reasons: Reason[] = [
        {
          code: `report:${input.kind}`,
          message:
            input.source === 'shopper_report'
              ? `Shopper reported: ${input.kind.replaceAll('_', ' ')}.`
              : `Alert: ${input.kind.replaceAll('_', ' ')}.`,
          source: 'rule',
        },
        ...(score ? (JSON.parse(score.reasons) as Reason[]) : []),
      ];
      const id = await openCaseRow({
        order_id: input.orderId ?? null,
        subject_id: subject ?? score?.subject_id ?? null,
        source: input.source,
        score: score ? Number(score.score) : null,
        reasons: JSON.stringify(reasons),
        report_kind: input.kind,
        created_at: now,
      });
      await deps.audit.record({
        actor,
        action: 'fraud.case_open',
        target: id,
        outcome: 'success',
        details: { source: input.source, kind: input.kind },
      });
      const row = await db
        .selectFrom('fraud_cases')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      return toCase(row);
    },

    /** What happened to an order later: labels for training and the refund/claim history of its customer and address. */
    async recordOutcome(
      input: { orderId: string; kind: OutcomeKind; amount?: number | undefined },
      actor: string,
    ) {
      const now = deps.clock.now().getTime();
      const row = await db
        .selectFrom('fraud_scores')
        .select(['keys', 'subject_id'])
        .where('order_id', '=', input.orderId)
        .executeTakeFirst();
      if (!row)
        throw new AppError(
          'not_found',
          `Order ${input.orderId} was never scored; score it with POST /v1/fraud/score first.`,
        );
      const keys = JSON.parse(row.keys) as OrderKeys;
      await deps.state.transaction(async (trx) => {
        const tdb = trx as typeof db;
        if (input.kind === 'chargeback' || input.kind === 'legitimate') {
          const q = tdb
            .updateTable('fraud_scores')
            .set({ label: input.kind === 'chargeback' ? 1 : 0, label_source: input.kind, labelled_at: now })
            .where('order_id', '=', input.orderId);
          // "Legitimate" (settled without dispute) never overrides a chargeback or a reviewer.
          await (input.kind === 'legitimate' ? q.where('label_source', 'is', null) : q).execute();
        }
        const at = { ts: now, subject_id: row.subject_id };
        const amount = input.amount ?? 0;
        if (keys.customer) {
          if (input.kind === 'refund' || input.kind === 'chargeback')
            await bumpEntity(tdb, {
              ...at,
              key_hash: keys.customer,
              kind: 'customer',
              refunds: 1,
              refund_amount: amount,
            });
          if (input.kind === 'return')
            await bumpEntity(tdb, {
              ...at,
              key_hash: keys.customer,
              kind: 'customer',
              returns: 1,
              refund_amount: amount,
            });
        }
        if (input.kind === 'not_received') {
          if (keys.velocity.ship)
            await bumpEntity(tdb, { ...at, key_hash: keys.velocity.ship, kind: 'address', claims: 1 });
          if (keys.customer)
            await bumpEntity(tdb, {
              ...at,
              key_hash: keys.customer,
              kind: 'customer',
              refunds: 1,
              refund_amount: amount,
            });
        }
      });
      await deps.audit.record({
        actor,
        action: 'fraud.outcome',
        target: input.orderId,
        outcome: 'success',
        details: { kind: input.kind },
      });
      return { orderId: input.orderId, kind: input.kind };
    },

    /**
     * Trains the model on every labelled order (review decisions, chargebacks, settled orders). The newest 20 %
     * are held out to report honest metrics, then the model is refitted on all labels and activated.
     */
    async train(actor: string): Promise<{
      trained: boolean;
      reason: string;
      modelId: string | null;
      rows: number;
      positives: number;
      holdout: MetricSet | null;
    }> {
      const rows = await db
        .selectFrom('fraud_scores')
        .select(['features', 'label', 'ts'])
        .where('label', 'is not', null)
        .orderBy('ts', 'asc')
        .limit(200_000)
        .execute();
      const data: TrainingRow[] = rows.map((r) => ({
        values: JSON.parse(r.features) as Record<string, FeatureValue>,
        label: Number(r.label) === 1 ? 1 : 0,
      }));
      const positives = data.filter((d) => d.label === 1).length;
      if (data.length < minLabels || positives === 0 || positives === data.length) {
        return {
          trained: false,
          reason: `Training needs at least ${minLabels} labelled orders with both outcomes; there are ${data.length} (${positives} fraud).`,
          modelId: null,
          rows: data.length,
          positives,
          holdout: null,
        };
      }
      const cut = Math.floor(data.length * 0.8);
      const trainPart = data.slice(0, cut);
      const test = data.slice(cut);
      let holdout: MetricSet | null = null;
      if (
        trainPart.some((d) => d.label === 1) &&
        test.some((d) => d.label === 1) &&
        test.some((d) => d.label === 0)
      ) {
        const m = trainLogistic(trainPart);
        holdout = metricSet(test.map((d) => ({ score: predict(m, d.values).probability, label: d.label })));
      }
      const now = deps.clock.now().getTime();
      const id = newId('fmodel');
      const model = trainLogistic(data, { version: id, now });
      await deps.state.transaction(async (trx) => {
        const tdb = trx as typeof db;
        await tdb.updateTable('fraud_models').set({ active: 0 }).where('active', '=', 1).execute();
        await tdb
          .insertInto('fraud_models')
          .values({
            id,
            created_at: now,
            model: JSON.stringify(model),
            metrics: JSON.stringify({ holdout, rows: data.length, positives }),
            active: 1,
          })
          .execute();
      });
      modelCache = null;
      await deps.audit.record({
        actor,
        action: 'fraud.model_train',
        target: id,
        outcome: 'success',
        details: { rows: data.length, positives },
      });
      deps.logger.info({ modelId: id, rows: data.length, positives }, 'fraud model trained');
      return {
        trained: true,
        reason: 'Trained and activated.',
        modelId: id,
        rows: data.length,
        positives,
        holdout,
      };
    },

    async modelInfo() {
      const model = await currentModel();
      return {
        version: model.version,
        trainedAt: model.trainedAt === null ? null : new Date(model.trainedAt).toISOString(),
        trainingRows: model.trainingRows,
        positives: model.positives,
        weights: model.features
          .map((f, i) => ({ feature: f, weight: Math.round(model.weights[i]! * 1000) / 1000 }))
          .filter((w) => w.weight !== 0)
          .sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight)),
      };
    },

    /** Retention: velocity rows past the longest window, and scores, closed cases and aggregates past the TTL. */
    async purgeExpired(): Promise<number> {
      const now = deps.clock.now().getTime();
      const before = now - retentionMs;
      let n = 0;
      n += Number(
        (
          await db
            .deleteFrom('fraud_velocity')
            .where('ts', '<', now - 8 * DAY)
            .executeTakeFirst()
        ).numDeletedRows,
      );
      n += Number(
        (await db.deleteFrom('fraud_scores').where('ts', '<', before).executeTakeFirst()).numDeletedRows,
      );
      n += Number(
        (
          await db
            .deleteFrom('fraud_cases')
            .where('status', '<>', 'open')
            .where('decided_at', '<', before)
            .executeTakeFirst()
        ).numDeletedRows,
      );
      n += Number(
        (await db.deleteFrom('fraud_entities').where('last_seen', '<', before).executeTakeFirst())
          .numDeletedRows,
      );
      return n;
    },

    /** Every row about these subject pseudonyms (export). */
    async exportSubjects(ids: readonly string[]) {
      if (ids.length === 0) return { scores: [], cases: [], aggregates: [], attempts: [] };
      const scores = await db
        .selectFrom('fraud_scores')
        .select([
          'order_id',
          'ts',
          'score',
          'decision',
          'reasons',
          'model_version',
          'rules_version',
          'label',
          'label_source',
        ])
        .where((eb) => eb.or([eb('subject_id', 'in', ids), eb('device_subject', 'in', ids)]))
        .orderBy('ts', 'asc')
        .execute();
      const cases = await db
        .selectFrom('fraud_cases')
        .selectAll()
        .where('subject_id', 'in', ids)
        .orderBy('id', 'asc')
        .execute();
      const aggregates = await db
        .selectFrom('fraud_entities')
        .select(['kind', 'first_seen', 'last_seen', 'orders', 'refunds', 'returns', 'claims'])
        .where('subject_id', 'in', ids)
        .execute();
      const velocity = await db
        .selectFrom('fraud_velocity')
        .select(['kind', 'ts', 'amount', 'declined'])
        .where('subject_id', 'in', ids)
        .execute();
      return {
        scores: scores.map((s) => ({
          orderId: s.order_id,
          scoredAt: new Date(Number(s.ts)).toISOString(),
          score: Number(s.score),
          decision: s.decision,
          reasons: JSON.parse(s.reasons) as Reason[],
          modelVersion: s.model_version,
          rulesVersion: Number(s.rules_version),
          label: s.label === null ? null : Number(s.label) === 1 ? 'fraud' : 'legitimate',
          labelSource: s.label_source,
        })),
        cases: cases.map(toCase),
        aggregates: aggregates.map((a) => ({
          kind: a.kind,
          firstSeen: new Date(Number(a.first_seen)).toISOString(),
          lastSeen: new Date(Number(a.last_seen)).toISOString(),
          orders: Number(a.orders),
          refunds: Number(a.refunds),
          returns: Number(a.returns),
          claims: Number(a.claims),
        })),
        attempts: velocity.map((v) => ({
          kind: v.kind,
          at: new Date(Number(v.ts)).toISOString(),
          amount: Number(v.amount),
          declined: Number(v.declined) === 1,
        })),
      };
    },

    async eraseSubjects(ids: readonly string[]): Promise<number> {
      if (ids.length === 0) return 0;
      return deps.state.transaction(async (trx) => {
        const tdb = trx as typeof db;
        let n = 0;
        n += Number(
          (await tdb.deleteFrom('fraud_velocity').where('subject_id', 'in', ids).executeTakeFirst())
            .numDeletedRows,
        );
        n += Number(
          (await tdb.deleteFrom('fraud_entities').where('subject_id', 'in', ids).executeTakeFirst())
            .numDeletedRows,
        );
        n += Number(
          (
            await tdb
              .deleteFrom('fraud_scores')
              .where((eb) => eb.or([eb('subject_id', 'in', ids), eb('device_subject', 'in', ids)]))
              .executeTakeFirst()
          ).numDeletedRows,
        );
        n += Number(
          (await tdb.deleteFrom('fraud_cases').where('subject_id', 'in', ids).executeTakeFirst())
            .numDeletedRows,
        );
        return n;
      });
    },
  };
}

export type FraudService = ReturnType<typeof createFraudService>;
export type { FeatureSet };
