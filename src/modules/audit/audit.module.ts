import type { Clock } from '../../kernel/clock.ts';
import type { Guards } from '../../kernel/http.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { CandorModule } from '../../kernel/module.ts';
import type { StateStore } from '../../storage/ports.ts';
import { auditRoutes } from './audit.routes.ts';
import { createAuditService, type AuditService } from './audit.service.ts';
import { auditMigrations } from './store.ts';

export type AuditModuleDeps = { state: StateStore; clock: Clock; logger: Logger; guards: Guards };
export type AuditModuleConfig = {
  signingKey: string;
  checkpointEvery?: number;
  checkpointIntervalMs?: number;
};

export type AuditModule = CandorModule & { readonly service: AuditService };

export const AUDIT_CHECKPOINT_JOB = 'audit.checkpoint';

export function createAuditModule(deps: AuditModuleDeps, config: AuditModuleConfig): AuditModule {
  const service = createAuditService(
    { state: deps.state, clock: deps.clock, logger: deps.logger },
    {
      signingKey: config.signingKey,
      ...(config.checkpointEvery !== undefined ? { checkpointEvery: config.checkpointEvery } : {}),
    },
  );
  return {
    name: 'audit',
    service,
    migrations: auditMigrations,
    routes: (router) => auditRoutes(router, service, deps.guards),
    jobs: {
      [AUDIT_CHECKPOINT_JOB]: async () => {
        await service.checkpoint();
      },
    },
    // Signed heads also on a clock, so a quiet installation's latest entries are covered too.
    schedules: [
      {
        name: AUDIT_CHECKPOINT_JOB,
        kind: AUDIT_CHECKPOINT_JOB,
        everyMs: config.checkpointIntervalMs ?? 15 * 60_000,
      },
    ],
  };
}
