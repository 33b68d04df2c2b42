export { createMarketingModule, LOYALTY_EXPIRE_JOB, SEGMENTS_REFRESH_JOB } from './marketing.module.ts';
export type { MarketingModule, MarketingModuleDeps, MarketingModuleConfig } from './marketing.module.ts';
export {
  createExperimentsService,
  hashUnit,
  pickVariant,
  layerBucket,
  BUCKETS,
} from './experiments.service.ts';
export type {
  ExperimentsService,
  Experiment,
  ExperimentInput,
  ExperimentResults,
  MetricDefinition,
  Assignment,
} from './experiments.service.ts';
export { createLoyaltyService } from './loyalty.service.ts';
export type {
  LoyaltyService,
  LoyaltyConfig,
  LoyaltyTransaction,
  EarnInput,
  Coupon,
} from './loyalty.service.ts';
export {
  compareArms,
  holmAdjust,
  sampleRatioMismatch,
  winsorise,
  sampleSizePerArm,
  powerAt,
  normalCdf,
  normalQuantile,
  chiSquareSf,
} from './statistics.ts';
export type { ArmStats, Comparison, CompareOptions, DesignInput } from './statistics.ts';
export { marketingMigrations } from './store.ts';
export {
  evaluateChurn,
  trainChurnModel,
  predictChurn,
  churnDataset,
  rocAuc,
  prAuc,
  calibration,
  CHURN_FEATURES,
} from './churn.ts';
export type { ChurnOrder, ChurnModel, ChurnReport, Calibration } from './churn.ts';
