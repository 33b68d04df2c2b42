/** zod schemas of the catalog API (validation, types and the OpenAPI document from one source). */
import { z } from '@hono/zod-openapi';

export const LANGUAGES = ['en', 'id', 'zh'] as const;
export type Language = (typeof LANGUAGES)[number];

/** No control characters: ids end up in URLs, logs of shops' own systems and CSV exports. */
const PRINTABLE = /^[^\p{Cc}]+$/u;

export const ProductId = z
  .string()
  .min(1)
  .max(128)
  .regex(PRINTABLE, 'must not contain control characters')
  .openapi({ example: 'SKU-10042' });

export const CategoryId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "-" or "_"')
  .openapi({ example: 'shoes' });

const text = (max: number) => z.string().trim().min(1).max(max);

export const Localized = (max: number) =>
  z.object({ en: text(max).optional(), id: text(max).optional(), zh: text(max).optional() }).strict();

const AttributeValue = z.union([
  z.string().max(1000),
  z.number(),
  z.boolean(),
  z.null(),
  z.array(z.string().max(200)).max(50),
]);

export const ProductInput = z
  .object({
    id: ProductId,
    title: Localized(500)
      .refine((t) => LANGUAGES.some((l) => t[l] !== undefined), 'needs a title in at least one of en, id, zh')
      .openapi({ example: { en: 'Canvas sneakers', id: 'Sepatu kanvas', zh: '帆布鞋' } }),
    description: Localized(10_000).optional(),
    categoryPath: z
      .array(CategoryId)
      .max(10)
      .default([])
      .openapi({ description: 'Category ids, root first.' }),
    brand: z.string().trim().min(1).max(200).nullable().optional(),
    price: z
      .number()
      .int('must be an integer in minor units (e.g. cents)')
      .min(0)
      .max(Number.MAX_SAFE_INTEGER)
      .openapi({ description: 'Price in minor units of the currency (e.g. 129900 for IDR 1,299.00).' }),
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as IDR, USD, CNY'),
    stock: z.number().int().min(0).max(1_000_000_000).default(0),
    attributes: z
      .record(z.string().min(1).max(100), AttributeValue)
      .default({})
      .refine((a) => Object.keys(a).length <= 100, 'at most 100 attributes'),
    active: z.boolean().default(true),
  })
  .strict()
  .openapi('ProductInput');

export type ProductInput = z.infer<typeof ProductInput>;

export const Product = z
  .object({
    id: z.string(),
    title: z.object({ en: z.string().nullable(), id: z.string().nullable(), zh: z.string().nullable() }),
    description: z.object({
      en: z.string().nullable(),
      id: z.string().nullable(),
      zh: z.string().nullable(),
    }),
    categoryPath: z.array(z.string()),
    brand: z.string().nullable(),
    price: z.number().int(),
    currency: z.string(),
    stock: z.number().int(),
    attributes: z.record(z.string(), z.unknown()),
    active: z.boolean(),
    updatedAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Product');

export type Product = z.infer<typeof Product>;

export const CategoryInput = z
  .object({
    id: CategoryId,
    parentId: CategoryId.nullable().default(null),
    name: Localized(200).refine(
      (t) => LANGUAGES.some((l) => t[l] !== undefined),
      'needs a name in at least one of en, id, zh',
    ),
  })
  .strict()
  .openapi('CategoryInput');

export type CategoryInput = z.infer<typeof CategoryInput>;

export const Category = z
  .object({
    id: z.string(),
    parentId: z.string().nullable(),
    name: z.object({ en: z.string().nullable(), id: z.string().nullable(), zh: z.string().nullable() }),
    updatedAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Category');

export type Category = z.infer<typeof Category>;

export const MAX_BATCH = 1000;

function noDuplicateIds(items: readonly { id: string }[], ctx: z.RefinementCtx) {
  const seen = new Set<string>();
  items.forEach((item, index) => {
    if (seen.has(item.id)) {
      ctx.addIssue({ code: 'custom', path: [index, 'id'], message: 'appears twice in this batch' });
    }
    seen.add(item.id);
  });
}

export const UpsertProductsBody = z
  .object({ products: z.array(ProductInput).min(1).max(MAX_BATCH).superRefine(noDuplicateIds) })
  .strict();

export const UpsertCategoriesBody = z
  .object({ categories: z.array(CategoryInput).min(1).max(MAX_BATCH).superRefine(noDuplicateIds) })
  .strict();

export const UpsertResult = z.object({ upserted: z.number().int() });

export const ListProductsQuery = z.object({
  category: CategoryId.optional(),
  q: z.string().trim().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(400).optional(),
});

export const ProductPage = z.object({ items: z.array(Product), nextCursor: z.string().nullable() });

export const CategoryList = z.object({ categories: z.array(Category) });
