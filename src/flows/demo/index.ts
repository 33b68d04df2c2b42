/** The demo shop: a deterministic synthetic shop for `candor demo`, `npm start`, tests and benchmarks. */
export * from './generator.ts';
export {
  DEMO_DEFAULTS,
  defaultDemoStart,
  loadDemoShop,
  toCategoryInput,
  toProductInput,
  type DemoOptions,
  type DemoPhase,
  type DemoProgress,
  type DemoTarget,
} from './load-demo.ts';
export {
  createDirectEventWriter,
  deviceClassOf,
  type DirectEventWriter,
  type DirectEventWriterDeps,
  type DirectWriteStats,
} from './direct-event-writer.ts';
export {
  ConsentBodySchema,
  DemoCallSchema,
  IdentifyBodySchema,
  OrderBodySchema,
  PageBodySchema,
  TrackBodySchema,
} from './call.schemas.ts';
