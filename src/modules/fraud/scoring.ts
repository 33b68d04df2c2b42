/**
 * One score, from features to decision, with no I/O: the HTTP route, the rules dry-run and `candor evaluate
 * fraud` all call this.
 */
import {
  extractFeatures,
  type CatalogPrice,
  type FeatureSet,
  type HistorySnapshot,
  type OrderInput,
} from './features.ts';
import { predict, type LogisticModel } from './model.ts';
import {
  applyRules,
  combine,
  type CompiledRule,
  type Decision,
  type RuleOutcome,
  type Thresholds,
} from './rules.ts';

export type Reason = { code: string; message: string; source: 'rule' | 'model' };

export type ScoreResult = {
  score: number;
  decision: Decision;
  reasons: Reason[];
  probability: number;
  rules: RuleOutcome;
  features: FeatureSet;
};

export const MAX_REASONS = 5;

export function topReasons(
  features: FeatureSet,
  rules: RuleOutcome,
  contributions: { feature: string; contribution: number }[],
): Reason[] {
  const reasons: Reason[] = rules.hits
    .filter((r) => r.action !== 'approve')
    .map((r) => ({ code: `rule:${r.id}`, message: r.name, source: 'rule' as const }));
  const byName = new Map(features.features.map((f) => [f.name, f]));
  for (const c of contributions) {
    if (reasons.length >= MAX_REASONS) break;
    const f = byName.get(c.feature);
    // Only signals that raise the risk noticeably, and only when the value itself is a risk signal.
    if (!f || c.contribution < 0.25 || !f.risky) continue;
    reasons.push({ code: `feature:${f.name}`, message: f.reason, source: 'model' });
  }
  if (reasons.length === 0)
    reasons.push({ code: 'no_signals', message: 'No risk signal stood out.', source: 'model' });
  return reasons.slice(0, MAX_REASONS);
}

export function scoreWith(
  order: OrderInput,
  history: HistorySnapshot,
  catalog: ReadonlyMap<string, CatalogPrice>,
  now: number,
  model: LogisticModel,
  rules: readonly CompiledRule[],
  thresholds: Thresholds,
): ScoreResult {
  const features = extractFeatures(order, history, catalog, now);
  return scoreFeatures(features, model, rules, thresholds);
}

export function scoreFeatures(
  features: FeatureSet,
  model: LogisticModel,
  rules: readonly CompiledRule[],
  thresholds: Thresholds,
): ScoreResult {
  const prediction = predict(model, features.values);
  const outcome = applyRules(rules, features.values);
  const { score, decision } = combine(prediction.probability, outcome, thresholds);
  return {
    score,
    decision,
    reasons: topReasons(features, outcome, prediction.contributions),
    probability: prediction.probability,
    rules: outcome,
    features,
  };
}
