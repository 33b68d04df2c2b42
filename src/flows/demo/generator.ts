/**
 * The pure part of the demo shop (no I/O): seeded randomness, the catalogue, the shoppers' calls and their
 * summary. Same seed and options → byte-identical output.
 */
export { createRng, createZipf, mixSeed, seedFromString, type Rng, type Zipf } from './rng.ts';
export {
  DEFAULT_PRODUCTS,
  LANGUAGES,
  formatRupiah,
  generateCatalog,
  indexCatalog,
  type CatalogIndex,
  type CatalogOptions,
  type DemoCatalog,
  type DemoCategory,
  type DemoProduct,
  type Language,
  type ProductFacts,
} from './catalog.ts';
export {
  CONSENT_MIX,
  DAY_MS,
  SHOP_URL,
  generateShoppers,
  toEpochMs,
  type ConsentChoice,
  type GenerateShoppersOptions,
} from './shoppers.ts';
export { createDemoSummary, demoSummary, type DemoSummary, type DemoSummaryBuilder } from './summary.ts';
export * from './calls.ts';
