import type { Clock } from '../../kernel/clock.ts';
import type { Pseudonymizer } from '../../kernel/crypto.ts';
import type { Guards } from '../../kernel/http.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { CandorModule } from '../../kernel/module.ts';
import type { StateStore } from '../../storage/ports.ts';
import type { PersonalDataHolder } from '../privacy/index.ts';
import { createFraudHolder } from './fraud.holder.ts';
import { mountFraudRoutes } from './fraud.routes.ts';
import {
  createFraudService,
  type CatalogPrices,
  type FraudAuditWriter,
  type FraudService,
  type FraudServiceConfig,
} from './fraud.service.ts';
import { fraudMigrations } from './store.ts';

export type FraudModuleDeps = {
  state: StateStore;
  clock: Clock;
  logger: Logger;
  guards: Guards;
  pseudonymize: Pseudonymizer;
  catalog: CatalogPrices;
  audit: FraudAuditWriter;
};

export type FraudModuleConfig = FraudServiceConfig & { trainEveryMs?: number };

export type FraudModule = CandorModule & {
  readonly service: FraudService;
  readonly holder: PersonalDataHolder;
};

export const FRAUD_TRAIN_JOB = 'fraud.train';
export const FRAUD_RETENTION_JOB = 'fraud.retention';

export function createFraudModule(deps: FraudModuleDeps, config: FraudModuleConfig = {}): FraudModule {
  const service = createFraudService(deps, config);
  const holder = createFraudHolder(service, config.retentionDays ?? 395);
  return {
    name: 'fraud',
    service,
    holder,
    migrations: fraudMigrations,
    routes: (router) => mountFraudRoutes(router, { service, guards: deps.guards }),
    jobs: {
      [FRAUD_TRAIN_JOB]: async () => {
        await service.train('system');
      },
      [FRAUD_RETENTION_JOB]: async () => {
        const deleted = await service.purgeExpired();
        deps.logger.info({ deleted }, 'fraud retention run');
      },
    },
    schedules: [
      { name: FRAUD_TRAIN_JOB, kind: FRAUD_TRAIN_JOB, everyMs: config.trainEveryMs ?? 86_400_000 },
      { name: FRAUD_RETENTION_JOB, kind: FRAUD_RETENTION_JOB, everyMs: 86_400_000 },
    ],
  };
}
