/**
 * Catalog HTTP API. Reads are public (product data is not personal data); writes need a staff member
 * with the `catalog:write` permission.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { AppError } from '../../kernel/errors.ts';
import type { Guards, Router } from '../../kernel/http.ts';
import {
  CategoryList,
  ProductId,
  ListProductsQuery,
  Product,
  ProductPage,
  UpsertCategoriesBody,
  UpsertProductsBody,
  UpsertResult,
} from './catalog.schemas.ts';
import type { CatalogService } from './catalog.service.ts';

const ErrorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), requestId: z.string() }) })
  .openapi('Error');

const errors = {
  400: { description: 'Invalid input', content: { 'application/json': { schema: ErrorSchema } } },
} as const;

const writeErrors = {
  ...errors,
  401: { description: 'Not signed in', content: { 'application/json': { schema: ErrorSchema } } },
  403: {
    description: 'Missing the catalog:write permission',
    content: { 'application/json': { schema: ErrorSchema } },
  },
  413: { description: 'Body too large', content: { 'application/json': { schema: ErrorSchema } } },
  415: { description: 'Body is not JSON', content: { 'application/json': { schema: ErrorSchema } } },
} as const;

export function mountCatalogRoutes(router: Router, deps: { service: CatalogService; guards: Guards }): void {
  const { service, guards } = deps;
  const canWrite = guards.staff('catalog:write');

  router.openapi(
    createRoute({
      method: 'put',
      path: '/v1/catalog/products',
      tags: ['catalog'],
      summary: 'Create or update up to 1000 products (by id).',
      middleware: [canWrite] as const,
      request: { body: { required: true, content: { 'application/json': { schema: UpsertProductsBody } } } },
      responses: {
        200: { description: 'Stored', content: { 'application/json': { schema: UpsertResult } } },
        ...writeErrors,
      },
    }),
    async (c) => c.json(await service.upsertProducts(c.req.valid('json').products), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/catalog/products/{id}',
      tags: ['catalog'],
      summary: 'One product.',
      request: { params: z.object({ id: ProductId }) },
      responses: {
        200: { description: 'The product', content: { 'application/json': { schema: Product } } },
        404: { description: 'No such product', content: { 'application/json': { schema: ErrorSchema } } },
        ...errors,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const product = await service.getProduct(id);
      if (!product)
        throw new AppError(
          'not_found',
          'No product has this id. List products with GET /v1/catalog/products.',
        );
      return c.json(product, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/catalog/products',
      tags: ['catalog'],
      summary: 'Active products, by category and/or title text (any language), paged by cursor.',
      request: { query: ListProductsQuery },
      responses: {
        200: { description: 'A page of products', content: { 'application/json': { schema: ProductPage } } },
        ...errors,
      },
    }),
    async (c) => {
      const { category, q, limit, cursor } = c.req.valid('query');
      return c.json(await service.listProducts({ category, q }, { limit, cursor }), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/v1/catalog/categories',
      tags: ['catalog'],
      summary: 'Create or update up to 1000 categories (by id).',
      middleware: [canWrite] as const,
      request: {
        body: { required: true, content: { 'application/json': { schema: UpsertCategoriesBody } } },
      },
      responses: {
        200: { description: 'Stored', content: { 'application/json': { schema: UpsertResult } } },
        ...writeErrors,
      },
    }),
    async (c) => c.json(await service.upsertCategories(c.req.valid('json').categories), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/catalog/categories',
      tags: ['catalog'],
      summary: 'Every category.',
      responses: {
        200: { description: 'The categories', content: { 'application/json': { schema: CategoryList } } },
      },
    }),
    async (c) => c.json({ categories: await service.listCategories() }, 200),
  );
}
