import type { Clock } from '../../kernel/clock.ts';
import type { Guards } from '../../kernel/http.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { CandorModule } from '../../kernel/module.ts';
import type { StateStore } from '../../storage/ports.ts';
import { mountCatalogRoutes } from './catalog.routes.ts';
import { createCatalogService, type CatalogService } from './catalog.service.ts';
import { catalogMigrations, createCatalogStore } from './store.ts';

export type CatalogDeps = { state: StateStore; guards: Guards; logger: Logger; clock: Clock };

export type CatalogConfig = Record<string, never>;

export type CatalogModule = CandorModule & { readonly service: CatalogService };

export function createCatalogModule(deps: CatalogDeps, _config: CatalogConfig = {}): CatalogModule {
  const service = createCatalogService({ store: createCatalogStore(deps.state), clock: deps.clock });
  return {
    name: 'catalog',
    service,
    migrations: catalogMigrations(deps.state),
    routes: (router) => mountCatalogRoutes(router, { service, guards: deps.guards }),
  };
}
