/** The recommend module's public surface: algorithms, the evaluation harness and the serving module. */
export type { History, InteractionSet, Neighbours, Recommender } from './algorithms/types.ts';
export { trainPopularity, type PopularityOptions } from './algorithms/popularity.ts';
export { trainItemKnn, bm25, type ItemKnnOptions, type ItemKnnModel } from './algorithms/item-knn.ts';
export { trainEase, invertSpd, solveSpd, type EaseOptions, type EaseModel } from './algorithms/ease.ts';
export {
  trainVsknn,
  trainSequentialRules,
  type VsknnOptions,
  type SequentialRulesOptions,
} from './algorithms/session-knn.ts';
export {
  trainContent,
  tokenize,
  itemTokens,
  type ItemContent,
  type ContentModel,
} from './algorithms/content.ts';
export { blend, type Component } from './algorithms/hybrid.ts';
export { mmrRerank } from './algorithms/mmr.ts';
export {
  rankingMetrics,
  intraListDiversity,
  novelty,
  gini,
  seededRandom,
  type RankingMetrics,
} from './algorithms/metrics.ts';
export { topK } from './algorithms/sparse.ts';
export {
  loadInteractions,
  parseColumns,
  parseTime,
  EVENT_TYPE_WEIGHTS,
  type ColumnMap,
  type RawEvent,
} from './evaluation/load-interactions.ts';
export {
  ALGORITHMS,
  PROTOCOLS,
  TASKS,
  splitEvents,
  type AlgorithmName,
  type AlgorithmResult,
  type Protocol,
  type Task,
} from './evaluation/evaluate-recs.ts';
export {
  runEvaluation,
  formatReport,
  type EvaluationInput,
  type EvaluationReport,
} from './evaluation/run-evaluation.ts';
export {
  createRecommendModule,
  RECOMMEND_TRAIN_JOB,
  type RecommendDeps,
  type RecommendModule,
  type RecommendModuleConfig,
} from './recommend.module.ts';
export {
  createRecommendService,
  SURFACES,
  type RecommendService,
  type RecommendConfig,
  type RecommendQuery,
  type RecommendResult,
  type RecommendedItem,
  type Reason,
  type Surface,
  type RecommendCatalog,
  type RecommendInterests,
} from './recommend.service.ts';
export {
  trainServingModel,
  serializeModel,
  deserializeModel,
  type ServingModel,
  type TrainingEvent,
  type CatalogItem,
} from './serving-model.ts';
export { createRecommendHolder } from './recommend.holder.ts';
