import type { Clock } from '../../kernel/clock.ts';
import type { Guards } from '../../kernel/http.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { CandorModule } from '../../kernel/module.ts';
import type { EventStore, StateStore } from '../../storage/index.ts';
import type { ErasedSubjects, PersonalDataHolder } from '../privacy/index.ts';
import { createRecommendHolder } from './recommend.holder.ts';
import { mountRecommendRoutes, type RecommendAudit, type SubjectsOf } from './recommend.routes.ts';
import {
  createRecommendService,
  type RecommendCatalog,
  type RecommendConfig,
  type RecommendInterests,
  type RecommendService,
} from './recommend.service.ts';
import { createRecommendStore, recommendMigrations } from './store.ts';

export const RECOMMEND_TRAIN_JOB = 'recommend.train';

export type RecommendDeps = {
  state: StateStore;
  events: EventStore;
  catalog: RecommendCatalog;
  personalisation: { isPersonalised(subjectIds: readonly string[]): Promise<boolean> };
  /** The shopper's interest tags (profiles): "for you" boosts and explains with them. */
  interests?: RecommendInterests;
  /** Maps the shop's userId / anonymousId to the subject pseudonyms events are stored under. */
  subjectsOf: SubjectsOf;
  guards: Guards;
  clock: Clock;
  logger: Logger;
  /** Registers the module's personal data with privacy (export, erasure). */
  registry?: { register(holder: PersonalDataHolder): void };
  /** The audit log's writer (staff previews for a named shopper are recorded). */
  audit?: RecommendAudit;
  /** Subjects erased lately by any process (privacy's erased subjects). */
  erased?: Pick<ErasedSubjects, 'among'>;
};

export type RecommendModuleConfig = RecommendConfig & {
  /** Training period; 0 disables the schedule. */
  trainEveryMs?: number;
  /** How often a serving process looks for a newer model version. */
  refreshEveryMs?: number;
  /** How often buffered impressions are written. */
  flushEveryMs?: number;
  /**
   * How often live stock is re-read from the whole catalogue (changes made through this process apply at
   * once; this bounds how long a change made by another process takes); 0 disables it.
   */
  catalogSyncMs?: number;
};

export type RecommendModule = CandorModule & {
  readonly service: RecommendService;
  readonly holder: PersonalDataHolder;
};

export function createRecommendModule(
  deps: RecommendDeps,
  config: RecommendModuleConfig = {},
): RecommendModule {
  const store = createRecommendStore(deps.state);
  const service = createRecommendService(
    {
      store,
      events: deps.events,
      catalog: deps.catalog,
      personalisation: deps.personalisation,
      ...(deps.interests ? { interests: deps.interests } : {}),
      clock: deps.clock,
      logger: deps.logger,
      ...(deps.erased ? { erased: deps.erased } : {}),
    },
    config,
  );
  const holder = createRecommendHolder(service);
  deps.registry?.register(holder);
  let timer: NodeJS.Timeout | undefined;
  let flusher: NodeJS.Timeout | undefined;
  let stockSync: NodeJS.Timeout | undefined;
  const every = config.trainEveryMs ?? 6 * 3_600_000;
  return {
    name: 'recommend',
    service,
    holder,
    migrations: recommendMigrations(),
    routes: (router) =>
      mountRecommendRoutes(router, {
        service,
        guards: deps.guards,
        subjectsOf: deps.subjectsOf,
        ...(deps.audit ? { audit: deps.audit } : {}),
      }),
    jobs: {
      [RECOMMEND_TRAIN_JOB]: async () => {
        await service.train();
      },
    },
    schedules: every > 0 ? [{ name: 'recommend-train', kind: RECOMMEND_TRAIN_JOB, everyMs: every }] : [],
    async start() {
      await service.refresh();
      // Hot swap: versions trained by a worker process are picked up without a restart.
      timer = setInterval(() => {
        service
          .refresh()
          .catch((e: unknown) => deps.logger.warn({ err: e }, 'recommendation model refresh failed'));
      }, config.refreshEveryMs ?? 60_000);
      timer.unref();
      flusher = setInterval(() => {
        service.flush().catch((e: unknown) => deps.logger.warn({ err: e }, 'impression flush failed'));
      }, config.flushEveryMs ?? 1_000);
      flusher.unref();
      const catalogSyncMs = config.catalogSyncMs ?? 10_000;
      if (catalogSyncMs > 0) {
        stockSync = setInterval(() => {
          service
            .syncCatalog()
            .catch((e: unknown) => deps.logger.warn({ err: e }, 'recommendation stock sync failed'));
        }, catalogSyncMs);
        stockSync.unref();
      }
    },
    async stop() {
      if (timer) clearInterval(timer);
      if (flusher) clearInterval(flusher);
      if (stockSync) clearInterval(stockSync);
      await service.flush();
    },
  };
}
