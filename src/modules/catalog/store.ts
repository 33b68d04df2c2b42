/**
 * Catalog tables on the state store port (SQLite and PostgreSQL, same migration). Product data is shop
 * data, not personal data: nothing here names a shopper.
 */
import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { columnTypes, tablesOf } from '../../storage/column-types.ts';
import type { StateStore } from '../../storage/ports.ts';

export type ProductRow = {
  id: string;
  title_en: string | null;
  title_id: string | null;
  title_zh: string | null;
  description_en: string | null;
  description_id: string | null;
  description_zh: string | null;
  /** Category ids from the root to the leaf, joined by '/'; '' when uncategorised. */
  category_path: string;
  brand: string | null;
  /** Minor units (cents, sen, fen): integers never round. */
  price_minor: number | string;
  currency: string;
  stock: number;
  attributes: string;
  active: number;
  updated_at: number | string;
};

export type CategoryRow = {
  id: string;
  parent_id: string | null;
  name_en: string | null;
  name_id: string | null;
  name_zh: string | null;
  updated_at: number | string;
};

export type CatalogTables = { catalog_products: ProductRow; catalog_categories: CategoryRow };

export function catalogMigrations(store: Pick<StateStore, 'dialect'>): Record<string, Migration> {
  const t = columnTypes(store.dialect);
  return {
    'catalog-0001-products-and-categories': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run before the typed view exists
      up: async (db: Kysely<any>) => {
        await db.schema
          .createTable('catalog_categories')
          .ifNotExists()
          .addColumn('id', t.text, (c) => c.primaryKey())
          .addColumn('parent_id', t.text)
          .addColumn('name_en', t.text)
          .addColumn('name_id', t.text)
          .addColumn('name_zh', t.text)
          .addColumn('updated_at', t.ts, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('catalog_products')
          .ifNotExists()
          .addColumn('id', t.text, (c) => c.primaryKey())
          .addColumn('title_en', t.text)
          .addColumn('title_id', t.text)
          .addColumn('title_zh', t.text)
          .addColumn('description_en', t.text)
          .addColumn('description_id', t.text)
          .addColumn('description_zh', t.text)
          .addColumn('category_path', t.text, (c) => c.notNull().defaultTo(''))
          .addColumn('brand', t.text)
          .addColumn('price_minor', t.bigint, (c) => c.notNull())
          .addColumn('currency', t.text, (c) => c.notNull())
          .addColumn('stock', t.bigint, (c) => c.notNull().defaultTo(0))
          .addColumn('attributes', t.json, (c) => c.notNull().defaultTo('{}'))
          .addColumn('active', t.bool, (c) => c.notNull().defaultTo(1))
          .addColumn('updated_at', t.ts, (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('catalog_products_category_idx')
          .ifNotExists()
          .on('catalog_products')
          .columns(['category_path', 'id'])
          .execute();
        await db.schema
          .createIndex('catalog_categories_parent_idx')
          .ifNotExists()
          .on('catalog_categories')
          .column('parent_id')
          .execute();
      },
    },
  };
}

const UPSERT_CHUNK = 200;

/** `%`, `_` and the escape character itself are literal in a user's search text. */
export function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
}

export type ListFilter = {
  category?: string | undefined;
  q?: string | undefined;
  afterId?: string | undefined;
  limit: number;
  includeInactive?: boolean;
};

export function createCatalogStore(state: StateStore) {
  const db = tablesOf<CatalogTables>(state);

  return {
    async upsertProducts(rows: readonly ProductRow[]): Promise<void> {
      await state.transaction(async (trx) => {
        const tx = trx as Kysely<CatalogTables>;
        for (let i = 0; i < rows.length; i += UPSERT_CHUNK) {
          await tx
            .insertInto('catalog_products')
            .values(rows.slice(i, i + UPSERT_CHUNK))
            .onConflict((oc) =>
              oc.column('id').doUpdateSet((eb) => ({
                title_en: eb.ref('excluded.title_en'),
                title_id: eb.ref('excluded.title_id'),
                title_zh: eb.ref('excluded.title_zh'),
                description_en: eb.ref('excluded.description_en'),
                description_id: eb.ref('excluded.description_id'),
                description_zh: eb.ref('excluded.description_zh'),
                category_path: eb.ref('excluded.category_path'),
                brand: eb.ref('excluded.brand'),
                price_minor: eb.ref('excluded.price_minor'),
                currency: eb.ref('excluded.currency'),
                stock: eb.ref('excluded.stock'),
                attributes: eb.ref('excluded.attributes'),
                active: eb.ref('excluded.active'),
                updated_at: eb.ref('excluded.updated_at'),
              })),
            )
            .execute();
        }
      });
    },

    async productsByIds(ids: readonly string[]): Promise<ProductRow[]> {
      if (ids.length === 0) return [];
      return db
        .selectFrom('catalog_products')
        .selectAll()
        .where('id', 'in', [...ids])
        .execute();
    },

    async listProducts(filter: ListFilter): Promise<ProductRow[]> {
      let query = db.selectFrom('catalog_products').selectAll();
      if (!filter.includeInactive) query = query.where('active', '=', 1);
      if (filter.category !== undefined) {
        // A product is in a category when the id is any segment of its path (the category or a descendant).
        const segment = `%/${filter.category.replace(/[\\%_]/g, (m) => `\\${m}`)}/%`;
        query = query.where(
          sql<string>`'/' || category_path || '/'`,
          'like',
          sql<string>`${segment} escape '\\'`,
        );
      }
      if (filter.q !== undefined) {
        const pattern = likePattern(filter.q);
        query = query.where((eb) =>
          eb.or(
            (['title_en', 'title_id', 'title_zh'] as const).map((col) =>
              eb(eb.fn('lower', [eb.ref(col)]), 'like', sql<string>`${pattern} escape '\\'`),
            ),
          ),
        );
      }
      if (filter.afterId !== undefined) query = query.where('id', '>', filter.afterId);
      return query.orderBy('id').limit(filter.limit).execute();
    },

    async upsertCategories(rows: readonly CategoryRow[]): Promise<void> {
      await state.transaction(async (trx) => {
        const tx = trx as Kysely<CatalogTables>;
        for (let i = 0; i < rows.length; i += UPSERT_CHUNK) {
          await tx
            .insertInto('catalog_categories')
            .values(rows.slice(i, i + UPSERT_CHUNK))
            .onConflict((oc) =>
              oc.column('id').doUpdateSet((eb) => ({
                parent_id: eb.ref('excluded.parent_id'),
                name_en: eb.ref('excluded.name_en'),
                name_id: eb.ref('excluded.name_id'),
                name_zh: eb.ref('excluded.name_zh'),
                updated_at: eb.ref('excluded.updated_at'),
              })),
            )
            .execute();
        }
      });
    },

    async listCategories(limit: number): Promise<CategoryRow[]> {
      return db.selectFrom('catalog_categories').selectAll().orderBy('id').limit(limit).execute();
    },

    async countProducts(): Promise<number> {
      const row = await db
        .selectFrom('catalog_products')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}

export type CatalogStore = ReturnType<typeof createCatalogStore>;
