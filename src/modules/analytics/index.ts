/** The analytics module's public surface. */
export {
  createAnalyticsModule,
  type AnalyticsModule,
  type AnalyticsModuleConfig,
  type AnalyticsModuleDeps,
} from './analytics.module.ts';
export { createAnalyticsService, type AnalyticsService, type Viewer } from './analytics.service.ts';
export { ownerIsPrivileged, type PrivilegeCheck } from './analytics.routes.ts';
export { overviewQuery, type OverviewResult } from './overview.query.ts';
export { funnelQuery, type FunnelParams, type FunnelResult } from './funnel.query.ts';
export { pathsQuery, browseDepthQuery, type PathsResult, type BrowseDepthResult } from './paths.query.ts';
export { dwellQuery, type DwellResult } from './dwell.query.ts';
export { searchQuery, type SearchResult } from './search.query.ts';
export { cartQuery, type CartResult } from './cart.query.ts';
export { retentionQuery, type RetentionResult } from './retention.query.ts';
export { reviewsQuery, type ReviewsResult } from './reviews.query.ts';
export type { NoisyValue } from './dp-noise.ts';
export {
  reviewSentimentQuery,
  type ReviewSentimentParams,
  type ReviewSentimentResult,
} from './review-sentiment.query.ts';
export { forecastQuery, type ForecastParams, type ForecastResult } from './forecast.query.ts';
export { forecastSeries, FORECAST_MODELS, type ForecastModel, type SeriesForecast } from './forecast.ts';
export {
  demographicsQuery,
  type DemographicsReader,
  type DeclaredDemographics,
  type DemographicsResult,
} from './demographics.query.ts';
export {
  trainSentimentModel,
  SENTIMENT_LABELS,
  type SentimentLabel,
  type SentimentModel,
  type SentimentScore,
} from './sentiment/model.ts';
export { defaultSentimentModel } from './sentiment/default-model.ts';
export { builtinSentimentExamples } from './sentiment/builtin.ts';
export {
  evaluateSentiment,
  readLabelledFile,
  parseLabelled,
  type SentimentReport,
} from './sentiment/evaluate.ts';
export { detectLanguage } from './sentiment/text.ts';
