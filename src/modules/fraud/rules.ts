/**
 * Shop-editable rules: each is a named condition (the expression grammar in rules.grammar.ts) with an action.
 * `decline` and `review` set a floor on the score, `approve` caps it below review (allow-lists), `score` adds
 * points (negative points lower the risk). Rule sets are versioned as a whole; a shop starts with the defaults.
 */
import { AppError } from '../../kernel/errors.ts';
import { FEATURE_TYPES, type FeatureValue } from './features.ts';
import { compileRule, evaluateRule, type Expr } from './rules.grammar.ts';

export const RULE_ACTIONS = ['decline', 'review', 'approve', 'score'] as const;
export type RuleAction = (typeof RULE_ACTIONS)[number];

export type Rule = {
  id: string;
  name: string;
  expression: string;
  action: RuleAction;
  /** Points added when action is `score` (−100…100). */
  points?: number | undefined;
  enabled: boolean;
};

export type CompiledRule = Rule & { expr: Expr };

export const MAX_RULES = 200;

export const DEFAULT_RULES: readonly Rule[] = [
  {
    id: 'card-testing',
    name: 'Card testing pattern',
    expression: 'card_testing',
    action: 'decline',
    enabled: true,
  },
  {
    id: 'card-burst',
    name: 'Many attempts on one card in 10 minutes',
    expression: 'velocity_card_10m >= 5',
    action: 'decline',
    enabled: true,
  },
  {
    id: 'price-tampering',
    name: 'Prices or quantities tampered with',
    expression: 'negative_quantity or price_underpaid_ratio >= 0.2 or total_mismatch',
    action: 'review',
    enabled: true,
  },
  {
    id: 'coupon-abuse',
    name: 'Stacked and reused coupons',
    expression: 'stacked_coupons and reused_coupon',
    action: 'review',
    enabled: true,
  },
  {
    id: 'refund-abuse',
    name: 'Refund or "not received" abuse',
    expression: 'refunds_exceed_purchases or not_received_claims >= 2',
    action: 'review',
    enabled: true,
  },
  {
    id: 'takeover',
    name: 'Possible account takeover',
    expression: 'first_seen_device and new_shipping_address and amount_z_customer >= 2',
    action: 'review',
    enabled: true,
  },
  {
    id: 'geo-new-account',
    name: 'Countries disagree on a new account',
    expression: 'country_mismatches >= 2 and (new_account or is_guest)',
    action: 'score',
    points: 25,
    enabled: true,
  },
  {
    id: 'disposable-high-risk',
    name: 'Disposable e-mail buying high-risk goods',
    expression: 'disposable_email and high_risk_category',
    action: 'score',
    points: 20,
    enabled: true,
  },
];

const ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** Validates and compiles a rule set; the error names the rule and what to fix. */
export function compileRules(rules: readonly Rule[]): CompiledRule[] {
  if (rules.length > MAX_RULES) {
    throw new AppError(
      'invalid_request',
      `A rule set holds at most ${MAX_RULES} rules; this one has ${rules.length}.`,
    );
  }
  const seen = new Set<string>();
  return rules.map((r) => {
    if (!ID.test(r.id)) {
      throw new AppError(
        'invalid_request',
        `Rule id '${r.id.slice(0, 70)}' must be 1–64 lower-case letters, digits, - or _.`,
      );
    }
    if (seen.has(r.id))
      throw new AppError('invalid_request', `Two rules have the id '${r.id}'; ids must be unique.`);
    seen.add(r.id);
    if (
      r.action === 'score' &&
      (r.points === undefined || !Number.isFinite(r.points) || Math.abs(r.points) > 100)
    ) {
      throw new AppError(
        'invalid_request',
        `Rule '${r.id}' has action score and needs points between -100 and 100.`,
      );
    }
    try {
      return { ...r, expr: compileRule(r.expression, FEATURE_TYPES) };
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new AppError('invalid_request', `Rule '${r.id}': ${msg}`, { cause: e });
    }
  });
}

export type RuleOutcome = {
  hits: CompiledRule[];
  decline: boolean;
  review: boolean;
  approve: boolean;
  points: number;
};

export function applyRules(
  rules: readonly CompiledRule[],
  values: Readonly<Record<string, FeatureValue>>,
): RuleOutcome {
  const out: RuleOutcome = { hits: [], decline: false, review: false, approve: false, points: 0 };
  for (const r of rules) {
    if (!r.enabled || !evaluateRule(r.expr, values)) continue;
    out.hits.push(r);
    if (r.action === 'decline') out.decline = true;
    else if (r.action === 'review') out.review = true;
    else if (r.action === 'approve') out.approve = true;
    else out.points += r.points ?? 0;
  }
  return out;
}

export type Thresholds = { review: number; decline: number };
export type Decision = 'approve' | 'review' | 'decline';

/** The final 0–100 score from the model's probability and the rules, and the decision it implies. */
export function combine(
  probability: number,
  rules: RuleOutcome,
  thresholds: Thresholds,
): { score: number; decision: Decision } {
  let score = 100 * probability + rules.points;
  if (rules.approve && !rules.decline) score = Math.min(score, thresholds.review - 1);
  if (rules.review) score = Math.max(score, thresholds.review);
  if (rules.decline) score = Math.max(score, thresholds.decline);
  score = Math.round(Math.min(100, Math.max(0, score)));
  const decision: Decision =
    score >= thresholds.decline ? 'decline' : score >= thresholds.review ? 'review' : 'approve';
  return { score, decision };
}

/** The rules-only score (no model): what the rules alone would say, for evaluation and dry-runs. */
export function rulesOnlyScore(rules: RuleOutcome, thresholds: Thresholds): number {
  return combine(0, rules, thresholds).score;
}
