import type { Clock } from '../../kernel/clock.ts';
import type { Guards } from '../../kernel/http.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { CandorModule } from '../../kernel/module.ts';
import type { EventStore, StateStore } from '../../storage/ports.ts';
import { analyticsRoutes, ownerIsPrivileged, type PrivilegeCheck } from './analytics.routes.ts';
import { createAnalyticsService, type AnalyticsService } from './analytics.service.ts';
import type { DemographicsReader } from './demographics.query.ts';
import type { SentimentModel } from './sentiment/model.ts';
import { analyticsMigrations } from './store.ts';

export type AnalyticsModuleDeps = {
  events: EventStore;
  state: StateStore;
  clock: Clock;
  logger: Logger;
  guards: Guards;
  /** Who sees groups smaller than k; default: the owner only. */
  isPrivileged?: PrivilegeCheck;
  /** Declared, consented demographics (the profiles module); without it /demographics answers 412. */
  demographics?: DemographicsReader;
  /** Review-sentiment classifier; default: the built-in model. */
  sentiment?: SentimentModel;
};

export type AnalyticsModuleConfig = {
  /** config.privacy.kAnonymity */
  kAnonymity: number;
  /** Total ε per rolling period for differentially private reports (default 10 per 30 days). */
  epsilonBudget?: number;
  budgetPeriodDays?: number;
};

export type AnalyticsModule = CandorModule & { readonly service: AnalyticsService };

export function createAnalyticsModule(
  deps: AnalyticsModuleDeps,
  config: AnalyticsModuleConfig,
): AnalyticsModule {
  const service = createAnalyticsService(
    {
      events: deps.events,
      state: deps.state,
      clock: deps.clock,
      ...(deps.demographics ? { demographics: deps.demographics } : {}),
      ...(deps.sentiment ? { sentiment: deps.sentiment } : {}),
    },
    {
      kAnonymity: config.kAnonymity,
      privacyBudget: { epsilonBudget: config.epsilonBudget ?? 10, periodDays: config.budgetPeriodDays ?? 30 },
    },
  );
  return {
    name: 'analytics',
    service,
    migrations: analyticsMigrations,
    routes: (router) =>
      analyticsRoutes(router, {
        service,
        guards: deps.guards,
        clock: deps.clock,
        isPrivileged: deps.isPrivileged ?? ownerIsPrivileged,
      }),
  };
}
