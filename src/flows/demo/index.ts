/** The demo shop: a deterministic synthetic shop for `candor demo`, `npm start`, tests and benchmarks. */
export * from './generator.ts';
export {
  DEMO_DEFAULTS,
  createDemoPipeline,
  defaultDemoStart,
  loadDemoShop,
  toCategoryInput,
  toProductInput,
  type DemoConsent,
  type DemoIngest,
  type DemoOptions,
  type DemoPipeline,
  type DemoPipelineDeps,
  type DemoPipelineStats,
  type DemoPhase,
  type DemoProgress,
  type DemoTarget,
} from './load-demo.ts';
export {
  ConsentBodySchema,
  DemoCallSchema,
  IdentifyBodySchema,
  OrderBodySchema,
  PageBodySchema,
  TrackBodySchema,
} from './call.schemas.ts';
