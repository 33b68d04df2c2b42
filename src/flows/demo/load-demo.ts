/**
 * Loads the demo shop into a running Candor: the catalogue first, then every shopper call in time order,
 * in batches, reporting progress. The target is whatever the composition root passes: the ingestion
 * pipeline, or (until that is wired) the catalog service plus `createDirectEventWriter`.
 */
import type { CategoryInput, ProductInput } from '../../modules/catalog/index.ts';
import type { DemoCall } from './calls.ts';
import { generateCatalog, type DemoCatalog, type DemoCategory, type DemoProduct } from './catalog.ts';
import { DAY_MS, generateShoppers, toEpochMs } from './shoppers.ts';
import { createDemoSummary, type DemoSummary } from './summary.ts';

export type DemoTarget = {
  upsertCategories(categories: CategoryInput[]): Promise<unknown>;
  upsertProducts(products: ProductInput[]): Promise<unknown>;
  submit(calls: DemoCall[]): Promise<unknown>;
};

export type DemoOptions = {
  seed: number;
  shoppers: number;
  days: number;
  products: number;
  /** First instant of the simulated period; by default the period ends at today's midnight (UTC). */
  start?: number | Date | string;
  /** Calls per `submit` (default 20,000: bulk appends are cheaper per event in large batches). */
  batchSize?: number;
};

/** What `npm start` loads: big enough to make every dashboard interesting, loaded in seconds. */
export const DEMO_DEFAULTS = { seed: 42, shoppers: 2000, days: 60, products: 3000 } as const;

export type DemoPhase = 'categories' | 'products' | 'shoppers' | 'done';
export type DemoProgress = { phase: DemoPhase; done: number; total: number };

/** Catalog module input for a demo category (ids are catalog-safe; the path is kept for products). */
export function toCategoryInput(category: DemoCategory): CategoryInput {
  return { id: category.id, parentId: category.parentId, name: { ...category.name } };
}

/** Catalog module input for a demo product: its category path becomes the ids of the category chain. */
export function toProductInput(product: DemoProduct): ProductInput {
  const [top, sub] = product.categoryPath.split('/');
  const categoryPath = sub ? [top!, `${top!}-${sub}`] : [top!];
  return {
    id: product.id,
    title: { ...product.title },
    description: { ...product.description },
    categoryPath,
    brand: product.brand,
    price: product.price,
    currency: product.currency,
    stock: product.stock,
    attributes: { ...product.attributes },
    active: true,
  };
}

/** The catalog API accepts at most this many items per upsert. */
const CATALOG_BATCH = 500;

export function defaultDemoStart(days: number, now: number = Date.now()): number {
  return Math.floor(now / DAY_MS) * DAY_MS - days * DAY_MS;
}

export async function loadDemoShop(
  target: DemoTarget,
  options: DemoOptions,
  onProgress?: (progress: DemoProgress) => void,
): Promise<DemoSummary & { catalog: { categories: number; products: number } }> {
  const start = options.start === undefined ? defaultDemoStart(options.days) : toEpochMs(options.start);
  const batchSize = options.batchSize ?? 20_000;
  const catalog: DemoCatalog = generateCatalog({ seed: options.seed, products: options.products });

  const categories = catalog.categories.map(toCategoryInput);
  onProgress?.({ phase: 'categories', done: 0, total: categories.length });
  await target.upsertCategories(categories);
  onProgress?.({ phase: 'categories', done: categories.length, total: categories.length });

  const total = catalog.products.length;
  for (let i = 0; i < total; i += CATALOG_BATCH) {
    await target.upsertProducts(catalog.products.slice(i, i + CATALOG_BATCH).map(toProductInput));
    onProgress?.({ phase: 'products', done: Math.min(total, i + CATALOG_BATCH), total });
  }

  const summary = createDemoSummary();
  let batch: DemoCall[] = [];
  let reported = -1;
  for (const call of generateShoppers({
    seed: options.seed,
    shoppers: options.shoppers,
    days: options.days,
    start,
    catalog,
  })) {
    summary.add(call);
    batch.push(call);
    if (batch.length >= batchSize) {
      await target.submit(batch);
      batch = [];
      const { shoppers } = summary.snapshot();
      if (shoppers !== reported) {
        reported = shoppers;
        onProgress?.({ phase: 'shoppers', done: shoppers, total: options.shoppers });
      }
    }
  }
  if (batch.length > 0) await target.submit(batch);
  onProgress?.({ phase: 'shoppers', done: options.shoppers, total: options.shoppers });
  onProgress?.({ phase: 'done', done: 1, total: 1 });
  return { ...summary.snapshot(), catalog: { categories: categories.length, products: total } };
}
