/**
 * Catalog service: the functions the routes and other modules (recommendations, search, chatbot) use.
 * Prices are integers in minor units; titles and descriptions are per language (en, id, zh).
 */
import type { Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';
import type { Category, CategoryInput, Product, ProductInput } from './catalog.schemas.ts';
import type { CatalogStore, CategoryRow, ProductRow } from './store.ts';

export type ProductPage = { items: Product[]; nextCursor: string | null };

/** What changed about a product, as change listeners see it. */
export type ProductChange = { id: string; active: boolean; stock: number };

export type ListOptions = { limit?: number; cursor?: string | undefined };

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 1000;
const MAX_CATEGORIES = 10_000;

function toProduct(row: ProductRow): Product {
  return {
    id: row.id,
    title: { en: row.title_en, id: row.title_id, zh: row.title_zh },
    description: { en: row.description_en, id: row.description_id, zh: row.description_zh },
    categoryPath: row.category_path === '' ? [] : row.category_path.split('/'),
    brand: row.brand,
    // PostgreSQL returns bigint as a string; both stores hold safe integers (validated on the way in).
    price: Number(row.price_minor),
    currency: row.currency,
    stock: Number(row.stock),
    attributes: JSON.parse(row.attributes) as Record<string, unknown>,
    active: Number(row.active) === 1,
    updatedAt: new Date(Number(row.updated_at)).toISOString(),
  };
}

function toProductRow(p: ProductInput, now: number): ProductRow {
  return {
    id: p.id,
    title_en: p.title.en ?? null,
    title_id: p.title.id ?? null,
    title_zh: p.title.zh ?? null,
    description_en: p.description?.en ?? null,
    description_id: p.description?.id ?? null,
    description_zh: p.description?.zh ?? null,
    category_path: p.categoryPath.join('/'),
    brand: p.brand ?? null,
    price_minor: p.price,
    currency: p.currency,
    stock: p.stock,
    attributes: JSON.stringify(p.attributes),
    active: p.active ? 1 : 0,
    updated_at: now,
  };
}

function toCategory(row: CategoryRow): Category {
  return {
    id: row.id,
    parentId: row.parent_id,
    name: { en: row.name_en, id: row.name_id, zh: row.name_zh },
    updatedAt: new Date(Number(row.updated_at)).toISOString(),
  };
}

/** Opaque cursors: callers pass back what they were given, never build their own. */
export function encodeCursor(lastId: string): string {
  return `c1.${Buffer.from(lastId, 'utf8').toString('base64url')}`;
}

export function decodeCursor(cursor: string): string {
  const body = cursor.startsWith('c1.') ? cursor.slice(3) : undefined;
  const id =
    body !== undefined && /^[A-Za-z0-9_-]+$/.test(body)
      ? Buffer.from(body, 'base64url').toString('utf8')
      : '';
  if (id === '') {
    throw new AppError(
      'invalid_request',
      'The cursor is not one this API issued. Pass the nextCursor of a previous page.',
    );
  }
  return id;
}

function clampLimit(limit: number | undefined): number {
  return Math.min(Math.max(Math.trunc(limit ?? DEFAULT_LIMIT), 1), MAX_LIMIT);
}

export type CatalogServiceDeps = { store: CatalogStore; clock: Clock };

export function createCatalogService(deps: CatalogServiceDeps) {
  const { store, clock } = deps;
  /** In-process subscribers to product changes (recommendations keep live stock in memory with it). */
  const changeListeners = new Set<(changed: readonly ProductChange[]) => void>();

  const page = async (
    filter: { category?: string | undefined; q?: string | undefined },
    options: ListOptions,
  ) => {
    const limit = clampLimit(options.limit);
    const afterId = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    // One extra row tells whether there is a next page without a count query.
    const rows = await store.listProducts({ ...filter, afterId, limit: limit + 1 });
    const items = rows.slice(0, limit).map(toProduct);
    const last = items.at(-1);
    return {
      items,
      nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null,
    } satisfies ProductPage;
  };

  return {
    async upsertProducts(products: readonly ProductInput[]): Promise<{ upserted: number }> {
      const now = clock.now().getTime();
      await store.upsertProducts(products.map((p) => toProductRow(p, now)));
      const changed = products.map((p) => ({ id: p.id, active: p.active, stock: p.stock }));
      for (const listener of changeListeners) listener(changed);
      return { upserted: products.length };
    },

    /** Calls `listener` after every committed product upsert in this process; returns an unsubscribe. */
    onProductsChanged(listener: (changed: readonly ProductChange[]) => void): () => void {
      changeListeners.add(listener);
      return () => void changeListeners.delete(listener);
    },

    async getProduct(id: string): Promise<Product | null> {
      const [row] = await store.productsByIds([id]);
      return row ? toProduct(row) : null;
    },

    /** Products by id, in the order asked, missing ids left out (inactive ones included: callers decide). */
    async getProducts(ids: readonly string[]): Promise<Product[]> {
      const unique = [...new Set(ids)];
      const byId = new Map<string, Product>();
      for (let i = 0; i < unique.length; i += 500) {
        for (const row of await store.productsByIds(unique.slice(i, i + 500)))
          byId.set(row.id, toProduct(row));
      }
      return unique.flatMap((id) => byId.get(id) ?? []);
    },

    /** Active products, optionally in a category (or its descendants) and matching a title in any language. */
    listProducts(
      filter: { category?: string | undefined; q?: string | undefined },
      options: ListOptions = {},
    ) {
      return page(filter, options);
    },

    listByCategory(categoryId: string, options: ListOptions = {}) {
      return page({ category: categoryId }, options);
    },

    /** Case-insensitive substring match on the en, id and zh titles. */
    searchProducts(query: string, options: ListOptions = {}) {
      return page({ q: query }, options);
    },

    countProducts: () => store.countProducts(),

    async upsertCategories(categories: readonly CategoryInput[]): Promise<{ upserted: number }> {
      const now = clock.now().getTime();
      await store.upsertCategories(
        categories.map((c) => ({
          id: c.id,
          parent_id: c.parentId,
          name_en: c.name.en ?? null,
          name_id: c.name.id ?? null,
          name_zh: c.name.zh ?? null,
          updated_at: now,
        })),
      );
      return { upserted: categories.length };
    },

    async listCategories(): Promise<Category[]> {
      return (await store.listCategories(MAX_CATEGORIES)).map(toCategory);
    },
  };
}

export type CatalogService = ReturnType<typeof createCatalogService>;
