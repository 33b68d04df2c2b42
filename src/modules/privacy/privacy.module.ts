import type { Clock } from '../../kernel/clock.ts';
import type { Guards } from '../../kernel/http.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { CandorModule } from '../../kernel/module.ts';
import type { EventStore, Jobs, StateStore } from '../../storage/ports.ts';
import { createEmailCodeSender, type CodeEmailChannel } from './code-delivery.ts';
import type { HolderRegistry, Subject } from './holder.ts';
import { createEventStoreHolder } from './event-store.holder.ts';
import { EVENTS_PURGE_EVERY_MS, EVENTS_PURGE_JOB, type EventPurges } from './event-purge.ts';
import { createPrivacyHolder } from './privacy.holder.ts';
import { mountPrivacyRoutes } from './privacy.routes.ts';
import {
  createPrivacyService,
  type AuditRecorder,
  type CodeSender,
  type DsarRunners,
  type PrivacyService,
} from './privacy.service.ts';
import { createProcessingService, type ProcessingService } from './processing.service.ts';
import { createRetentionService, type RetentionService } from './retention.service.ts';
import { privacyMigrations } from './store.ts';

export type PrivacyModuleDeps = {
  state: StateStore;
  events: EventStore;
  jobs: Jobs;
  clock: Clock;
  logger: Logger;
  guards: Guards;
  audit: AuditRecorder;
  registry: HolderRegistry;
  runners: DsarRunners;
  /** Pending physical purges of erased events (shared with the erasure flow). */
  purges: EventPurges;
  /** Every pseudonym linked to this one (the profiles identity graph). */
  resolveSubject(subjectId: string): Promise<Subject>;
  findSubjectByEmail(email: string): Promise<Subject | null>;
  /**
   * How one-time codes reach shoppers: an e-mail channel (the vault's address + an SMTP relay), or any
   * other sender. Without either, the by-e-mail routes answer 503 and name what to configure.
   */
  codeEmail?: CodeEmailChannel;
  sendCode?: CodeSender;
};

export type PrivacyModuleConfig = {
  /** Keys the HMAC of one-time codes (the session secret). */
  codeSecret: string;
  /** Who the controller is, for the record of processing (the shop's name or URL). */
  controller: string;
  /** How the shop is named in messages to shoppers (verification codes). */
  shopName?: string;
  retentionEveryMs?: number;
};

export type PrivacyModule = CandorModule & {
  readonly service: PrivacyService;
  readonly processing: ProcessingService;
  readonly retention: RetentionService;
  /** The personal-data holders of every module (export and erasure walk it; the coverage test checks it). */
  readonly registry: HolderRegistry;
  /** Physical purges of deleted events: pending ones, their state, the scheduled run. */
  readonly purges: EventPurges;
};

export const PRIVACY_ERASE_JOB = 'privacy.erase_resume';
export const PRIVACY_RETENTION_JOB = 'privacy.retention';

export function createPrivacyModule(deps: PrivacyModuleDeps, config: PrivacyModuleConfig): PrivacyModule {
  const processing = createProcessingService({
    state: deps.state,
    clock: deps.clock,
    registry: deps.registry,
  });
  const retention = createRetentionService({
    state: deps.state,
    events: deps.events,
    clock: deps.clock,
    registry: deps.registry,
    logger: deps.logger,
    purges: deps.purges,
  });
  const sendCode =
    deps.sendCode ??
    (deps.codeEmail
      ? createEmailCodeSender(deps.codeEmail, {
          audit: deps.audit,
          shopName: config.shopName ?? config.controller,
          now: () => deps.clock.now().getTime(),
        })
      : undefined);
  const service = createPrivacyService(
    {
      state: deps.state,
      clock: deps.clock,
      logger: deps.logger,
      audit: deps.audit,
      runners: deps.runners,
      sendCode,
      findSubjectByEmail: (email) => deps.findSubjectByEmail(email),
    },
    { codeSecret: config.codeSecret },
  );
  deps.registry.register(createEventStoreHolder(deps.events));
  deps.registry.register(createPrivacyHolder({ state: deps.state, processing }));

  return {
    name: 'privacy',
    registry: deps.registry,
    purges: deps.purges,
    service,
    processing,
    retention,
    migrations: privacyMigrations(deps.state.dialect),
    routes: (router) =>
      mountPrivacyRoutes(router, {
        service,
        processing,
        retention,
        guards: deps.guards,
        resolveSubject: (id) => deps.resolveSubject(id),
        controller: config.controller,
        eventPurgeOf: (requestId) => deps.purges.status(requestId),
      }),
    jobs: {
      // Erasures interrupted by a crash or a failing target (a processor's webhook) are finished here.
      [PRIVACY_ERASE_JOB]: async () => {
        await service.resumeUnfinished();
      },
      [PRIVACY_RETENTION_JOB]: async () => {
        await retention.run();
      },
      // Rewrites the event file only when an erasure happened since the last purge.
      [EVENTS_PURGE_JOB]: async () => {
        await deps.purges.runScheduled();
      },
    },
    schedules: [
      { name: EVENTS_PURGE_JOB, kind: EVENTS_PURGE_JOB, everyMs: EVENTS_PURGE_EVERY_MS },
      { name: PRIVACY_ERASE_JOB, kind: PRIVACY_ERASE_JOB, everyMs: 60_000 },
      {
        name: PRIVACY_RETENTION_JOB,
        kind: PRIVACY_RETENTION_JOB,
        everyMs: config.retentionEveryMs ?? 24 * 60 * 60 * 1000,
      },
    ],
    // Codes still on their way to a relay are delivered before the process exits.
    async stop() {
      await service.settle();
    },
    async start() {
      // An erasure cut short by a crash resumes as soon as the process is back, not at the next schedule tick.
      if ((await service.dsar.unfinished()).length > 0)
        await deps.jobs.enqueue(PRIVACY_ERASE_JOB, {}, { uniqueKey: PRIVACY_ERASE_JOB });
    },
  };
}
