export { createFraudModule, FRAUD_TRAIN_JOB, FRAUD_RETENTION_JOB } from './fraud.module.ts';
export type { FraudModule, FraudModuleDeps, FraudModuleConfig } from './fraud.module.ts';
export {
  createFraudService,
  CASE_SOURCES,
  CASE_STATUSES,
  OUTCOME_KINDS,
  REPORT_KINDS,
  REVIEW_REASONS,
} from './fraud.service.ts';
export type {
  FraudService,
  FraudServiceConfig,
  CatalogPrices,
  FraudCase,
  ScoreResponse,
  ReportKind,
  OutcomeKind,
} from './fraud.service.ts';
export type { OrderInput, CatalogPrice, FeatureSet, Feature } from './features.ts';
export { extractFeatures, FEATURE_TYPES } from './features.ts';
export { containsCardNumber, findCardNumber, luhnValid } from './card-number.ts';
export { compileRule, evaluateRule } from './rules.grammar.ts';
export { DEFAULT_RULES, compileRules, type Rule } from './rules.ts';
export { fraudMigrations } from './store.ts';
export {
  evaluateFraud,
  parseColumnMap,
  parseCsv,
  DEFAULT_COLUMNS,
  type EvaluateOptions,
  type EvaluationReport,
} from './evaluate.ts';
export { generateScenario, scenarioToCsv, type ScenarioOptions } from './scenario.ts';
