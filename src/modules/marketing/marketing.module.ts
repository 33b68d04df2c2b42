import type { Clock } from '../../kernel/clock.ts';
import type { Guards } from '../../kernel/http.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { CandorModule } from '../../kernel/module.ts';
import type { EventStore, StateStore } from '../../storage/ports.ts';
import type { HolderRegistry, PersonalDataHolder } from '../privacy/index.ts';
import { mountCampaignRoutes } from './campaigns.routes.ts';
import {
  createCampaignsService,
  type CampaignAudience,
  type CampaignsConfig,
  type CampaignsService,
} from './campaigns.service.ts';
import {
  createSegmentsService,
  type SegmentAudience,
  type SegmentsConfig,
  type SegmentsService,
} from './segments.service.ts';
import { createExperimentsService, type ExperimentsService } from './experiments.service.ts';
import { createLoyaltyService, type LoyaltyConfig, type LoyaltyService } from './loyalty.service.ts';
import { createMarketingHolder } from './marketing.holder.ts';
import { mountMarketingRoutes, type MarketingRouteDeps } from './marketing.routes.ts';
import { marketingMigrations } from './store.ts';

export type MarketingModuleDeps = {
  state: StateStore;
  clock: Clock;
  logger: Logger;
  guards: Guards;
  /** Subject pseudonym of a shop customer id or device id (the namespaces ingestion uses). */
  subjectOf(who: { userId?: string | undefined; anonymousId?: string | undefined }): string;
  registry?: HolderRegistry;
  /** Segments and campaigns need the event store and the audience (profiles, consent, vault, share log). */
  events?: EventStore;
  audience?: SegmentAudience & CampaignAudience;
  /** The audit log's writer (staff reads of one shopper's loyalty ledger are recorded). */
  audit?: MarketingRouteDeps['audit'];
};

export type MarketingModuleConfig = {
  loyalty?: LoyaltyConfig;
  segments?: SegmentsConfig;
  /** Required (with `events` and `audience`) for segments and campaigns. */
  campaigns?: CampaignsConfig;
};

export type MarketingModule = CandorModule & {
  readonly experiments: ExperimentsService;
  readonly loyalty: LoyaltyService;
  readonly holder: PersonalDataHolder;
  /** Present when the module was given the event store, the audience and the campaigns config. */
  readonly segments: SegmentsService | undefined;
  readonly campaigns: CampaignsService | undefined;
};

export const LOYALTY_EXPIRE_JOB = 'loyalty.expire';
export const SEGMENTS_REFRESH_JOB = 'marketing.segments.refresh';
export const CAMPAIGNS_RESUME_JOB = 'marketing.campaigns.resume';

export function createMarketingModule(
  deps: MarketingModuleDeps,
  config: MarketingModuleConfig = {},
): MarketingModule {
  const experiments = createExperimentsService(deps);
  const loyalty = createLoyaltyService(deps, config.loyalty ?? {});
  const audiences =
    deps.events && deps.audience && config.campaigns
      ? { events: deps.events, audience: deps.audience, campaignsConfig: config.campaigns }
      : null;
  const segments = audiences
    ? createSegmentsService(
        { state: deps.state, events: audiences.events, clock: deps.clock, audience: audiences.audience },
        {
          onError: (err: unknown) =>
            deps.logger.warn({ err }, 'live segment update failed; the periodic refresh will repair it'),
          ...config.segments,
        },
      )
    : undefined;
  const campaigns =
    audiences && segments
      ? createCampaignsService(
          {
            state: deps.state,
            events: audiences.events,
            clock: deps.clock,
            segments,
            audience: audiences.audience,
          },
          audiences.campaignsConfig,
        )
      : undefined;
  const holder = createMarketingHolder(experiments, loyalty, segments, campaigns);
  deps.registry?.register(holder);
  return {
    name: 'marketing',
    experiments,
    loyalty,
    holder,
    segments,
    campaigns,
    migrations: marketingMigrations,
    routes: (router) => {
      mountMarketingRoutes(router, {
        experiments,
        loyalty,
        guards: deps.guards,
        subjectOf: (who) => deps.subjectOf(who),
        ...(deps.audit ? { audit: deps.audit } : {}),
      });
      if (segments && campaigns)
        mountCampaignRoutes(router, {
          segments,
          campaigns,
          guards: deps.guards,
          subjectOf: (who) => deps.subjectOf(who),
        });
    },
    jobs: {
      [LOYALTY_EXPIRE_JOB]: async () => {
        const r = await loyalty.expire();
        deps.logger.info(r, 'loyalty points expired');
      },
      // Membership follows events, traits and consent as they change (segments.noteActivity, wired by the
      // server); this full re-evaluation is the safety net, and moves shoppers whose behaviour window ended.
      [SEGMENTS_REFRESH_JOB]: async () => {
        const n = (await segments?.refreshAll()) ?? 0;
        deps.logger.debug({ segments: n }, 'segments refreshed');
      },
      // Campaigns still sending (deferred by quiet hours, or interrupted) continue where they stopped.
      [CAMPAIGNS_RESUME_JOB]: async () => {
        const n = (await campaigns?.resumeAll()) ?? 0;
        if (n > 0) deps.logger.info({ campaigns: n }, 'campaigns resumed');
      },
    },
    schedules: [
      { name: LOYALTY_EXPIRE_JOB, kind: LOYALTY_EXPIRE_JOB, everyMs: 86_400_000 },
      ...(segments
        ? [
            {
              name: SEGMENTS_REFRESH_JOB,
              kind: SEGMENTS_REFRESH_JOB,
              everyMs: config.segments?.fullRefreshEveryMs ?? 10 * 60_000,
            },
          ]
        : []),
      ...(campaigns
        ? [{ name: CAMPAIGNS_RESUME_JOB, kind: CAMPAIGNS_RESUME_JOB, everyMs: 15 * 60_000 }]
        : []),
    ],
    stop: async () => {
      await segments?.settled();
      campaigns?.close();
    },
  };
}
