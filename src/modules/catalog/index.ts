export {
  createCatalogModule,
  type CatalogConfig,
  type CatalogDeps,
  type CatalogModule,
} from './catalog.module.ts';
export type { CatalogService, ProductPage, ListOptions } from './catalog.service.ts';
export {
  LANGUAGES,
  MAX_BATCH,
  type Category,
  type CategoryInput,
  type Language,
  type Product,
  type ProductInput,
} from './catalog.schemas.ts';
