/**
 * The catalog's behaviour, written once and run on every state store: SQLite (catalog.test.ts) and
 * PostgreSQL (catalog.server.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Router } from '../../src/kernel/http.ts';
import type { CatalogService } from '../../src/modules/catalog/index.ts';

export type CatalogHarness = { app: Router; service: CatalogService; close(): Promise<void> };

const put = (body: unknown): RequestInit => ({
  method: 'PUT',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

function product(id: string, overrides: Record<string, unknown> = {}) {
  return {
    id,
    title: { en: `Canvas sneaker ${id}`, id: `Sepatu kanvas ${id}`, zh: `帆布鞋 ${id}` },
    categoryPath: ['apparel', 'shoes'],
    brand: 'Kaki',
    price: 129_900,
    currency: 'IDR',
    stock: 5,
    attributes: { color: 'white', sizes: ['40', '41'] },
    ...overrides,
  };
}

export function catalogContract(name: string, open: () => Promise<CatalogHarness>): void {
  describe(`catalog on ${name}`, () => {
    let h: CatalogHarness;
    beforeAll(async () => {
      h = await open();
    });
    afterAll(async () => h.close());

    it('upserts categories and lists them', async () => {
      const res = await h.app.request(
        '/v1/catalog/categories',
        put({
          categories: [
            { id: 'apparel', name: { en: 'Apparel', id: 'Pakaian', zh: '服装' } },
            { id: 'shoes', parentId: 'apparel', name: { en: 'Shoes', zh: '鞋' } },
            { id: 'kitchen', name: { en: 'Kitchen' } },
          ],
        }),
      );
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ upserted: 3 });
      const list = (await (await h.app.request('/v1/catalog/categories')).json()) as {
        categories: { id: string; parentId: string | null; name: Record<string, string | null> }[];
      };
      expect(list.categories.map((c) => c.id)).toEqual(['apparel', 'kitchen', 'shoes']);
      expect(list.categories.find((c) => c.id === 'shoes')).toMatchObject({
        parentId: 'apparel',
        name: { en: 'Shoes', id: null, zh: '鞋' },
      });
    });

    it('upserts products and reads one back exactly', async () => {
      const res = await h.app.request(
        '/v1/catalog/products',
        put({
          products: [
            product('SKU-1'),
            product('SKU-2', {
              title: { en: 'Chef knife', id: 'Pisau koki', zh: '厨师刀' },
              categoryPath: ['kitchen'],
            }),
            product('SKU-3', { active: false }),
          ],
        }),
      );
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ upserted: 3 });
      const one = await h.app.request('/v1/catalog/products/SKU-1');
      expect(one.status).toBe(200);
      const body = (await one.json()) as Record<string, unknown>;
      expect(body).toMatchObject({
        id: 'SKU-1',
        title: { en: 'Canvas sneaker SKU-1', id: 'Sepatu kanvas SKU-1', zh: '帆布鞋 SKU-1' },
        description: { en: null, id: null, zh: null },
        categoryPath: ['apparel', 'shoes'],
        brand: 'Kaki',
        price: 129_900,
        currency: 'IDR',
        stock: 5,
        attributes: { color: 'white', sizes: ['40', '41'] },
        active: true,
      });
      expect(new Date(body.updatedAt as string).getTime()).not.toBeNaN();
    });

    it('updates a product on a second upsert of the same id', async () => {
      await h.app.request(
        '/v1/catalog/products',
        put({ products: [product('SKU-1', { price: 99_000, stock: 0 })] }),
      );
      const body = (await (await h.app.request('/v1/catalog/products/SKU-1')).json()) as {
        price: number;
        stock: number;
      };
      expect(body).toMatchObject({ price: 99_000, stock: 0 });
      expect(await h.service.countProducts()).toBe(3);
    });

    it('answers 404 JSON for an unknown product', async () => {
      const res = await h.app.request('/v1/catalog/products/NOPE');
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
    });

    it('lists active products by category, including descendants', async () => {
      const page = async (q: string) =>
        (
          (await (await h.app.request(`/v1/catalog/products?${q}`)).json()) as { items: { id: string }[] }
        ).items.map((p) => p.id);
      expect(await page('category=apparel')).toEqual(['SKU-1']);
      expect(await page('category=shoes')).toEqual(['SKU-1']);
      expect(await page('category=kitchen')).toEqual(['SKU-2']);
      expect(await page('')).toEqual(['SKU-1', 'SKU-2']);
    });

    it('searches titles in English, Indonesian and Chinese, case-insensitively', async () => {
      const search = async (q: string) => (await h.service.searchProducts(q)).items.map((p) => p.id);
      expect(await search('CHEF')).toEqual(['SKU-2']);
      expect(await search('pisau')).toEqual(['SKU-2']);
      expect(await search('帆布')).toEqual(['SKU-1']);
      expect(await search('100%')).toEqual([]);
      const viaHttp = (await (
        await h.app.request(`/v1/catalog/products?q=${encodeURIComponent('刀')}`)
      ).json()) as {
        items: { id: string }[];
      };
      expect(viaHttp.items.map((p) => p.id)).toEqual(['SKU-2']);
    });

    it('pages with an opaque cursor until the end', async () => {
      const many = Array.from({ length: 25 }, (_, i) =>
        product(`P-${String(i).padStart(3, '0')}`, { categoryPath: ['bulk'] }),
      );
      expect((await h.app.request('/v1/catalog/products', put({ products: many }))).status).toBe(200);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const q: string = `category=bulk&limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const body = (await (await h.app.request(`/v1/catalog/products?${q}`)).json()) as {
          items: { id: string }[];
          nextCursor: string | null;
        };
        seen.push(...body.items.map((p) => p.id));
        cursor = body.nextCursor;
      } while (cursor);
      expect(seen).toEqual(many.map((p) => p.id));
      const bad = await h.app.request('/v1/catalog/products?cursor=garbage');
      expect(bad.status).toBe(400);
    });

    it('gives other modules products by id, in the order asked, skipping unknown ids', async () => {
      const products = await h.service.getProducts(['SKU-2', 'NOPE', 'SKU-1', 'SKU-3']);
      expect(products.map((p) => p.id)).toEqual(['SKU-2', 'SKU-1', 'SKU-3']);
      expect(products[2]?.active).toBe(false);
      expect((await h.service.listByCategory('kitchen')).items.map((p) => p.id)).toEqual(['SKU-2']);
    });

    it('rejects invalid products with 400 naming the fields, storing none of the batch', async () => {
      const before = await h.service.countProducts();
      const cases: [unknown, string][] = [
        [{ products: [product('X-1', { price: 10.5 })] }, 'json.products.0.price'],
        [{ products: [product('X-1', { currency: 'rupiah' })] }, 'json.products.0.currency'],
        [{ products: [product('X-1', { title: {} })] }, 'json.products.0.title'],
        [{ products: [product('X-1'), product('X-1')] }, 'json.products.1.id'],
        [{ products: [product('X-1', { categoryPath: ['a/b'] })] }, 'json.products.0.categoryPath.0'],
        [{ products: [product('X-1', { unknownField: 1 })] }, 'json.products.0'],
        [{ products: [] }, 'json.products'],
        [{ products: Array.from({ length: 1001 }, (_, i) => ({ id: `B-${i}` })) }, 'json.products'],
      ];
      for (const [body, field] of cases) {
        const res = await h.app.request('/v1/catalog/products', put(body));
        expect(res.status, field).toBe(400);
        const e = ((await res.json()) as { error: { code: string; message: string } }).error;
        expect(e.code).toBe('invalid_request');
        expect(e.message).toContain(field);
      }
      expect(await h.service.countProducts()).toBe(before);
    });
  });
}
