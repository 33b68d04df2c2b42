/** The ingest module: tracking endpoints, the pipeline and its group-commit buffer, the quarantine. */
import type { KeyRing } from '../../kernel/crypto.ts';
import type { Guards } from '../../kernel/http.ts';
import type { CandorModule } from '../../kernel/module.ts';
import {
  createIngestService,
  type IngestConfig,
  type IngestDeps,
  type IngestService,
} from './ingest.service.ts';
import { ingestRoutes } from './ingest.routes.ts';
import { ingestMigrations } from './store.ts';
import { webhookRoutes } from './webhooks.routes.ts';
import { createWebhookService, type WebhookOrders, type WebhookService } from './webhooks.service.ts';
import { webhookMigrations } from './webhooks.store.ts';

export type IngestModuleDeps = IngestDeps & {
  guards: Guards;
  /** Seals platform webhook secrets (they must be recoverable to verify HMAC signatures). */
  keyRing: KeyRing;
  /** The orders module: signed order webhooks also update the order record. */
  orders?: WebhookOrders;
};
export type IngestModuleConfig = IngestConfig & {
  /** How long quarantine rows (diagnostics) are kept, ms. */
  quarantineRetentionMs?: number;
};

export type IngestModule = CandorModule & {
  readonly service: IngestService;
  readonly webhooks: WebhookService;
};

export const INGEST_QUARANTINE_RETENTION_JOB = 'ingest.quarantine_retention';

export function createIngestModule(deps: IngestModuleDeps, config: IngestModuleConfig = {}): IngestModule {
  const service = createIngestService(deps, config);
  const webhooks = createWebhookService({ state: deps.state, clock: deps.clock, keyRing: deps.keyRing });
  const retentionMs = config.quarantineRetentionMs ?? 30 * 24 * 3600 * 1000;
  return {
    name: 'ingest',
    service,
    webhooks,
    migrations: { ...ingestMigrations(deps.state), ...webhookMigrations(deps.state) },
    routes: (router) => {
      ingestRoutes(router, service, deps.guards);
      webhookRoutes(router, { webhooks, ingest: service, guards: deps.guards, orders: deps.orders });
    },
    jobs: {
      [INGEST_QUARANTINE_RETENTION_JOB]: async () => {
        await service.deleteQuarantineOlderThan(deps.clock.now().getTime() - retentionMs);
      },
    },
    schedules: [
      {
        name: INGEST_QUARANTINE_RETENTION_JOB,
        kind: INGEST_QUARANTINE_RETENTION_JOB,
        everyMs: 24 * 3600 * 1000,
      },
    ],
    start: () => service.start(),
    stop: () => service.stop(),
  };
}
