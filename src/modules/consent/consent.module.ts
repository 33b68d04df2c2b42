/** The consent module: the ledger, notices, GPC, and the reader ingestion gates events with. */
import type { Guards } from '../../kernel/http.ts';
import type { CandorModule } from '../../kernel/module.ts';
import { consentRoutes } from './consent.routes.ts';
import {
  createConsentService,
  type ConsentDeps,
  type ConsentService,
  type ConsentServiceConfig,
} from './consent.service.ts';
import type { PurposeState } from './ledger.ts';
import { LEGAL_BASIS, type Purpose } from './purposes.ts';
import { consentMigrations } from './store.ts';

export type ConsentModuleDeps = ConsentDeps & {
  guards: Guards;
  /** The auth module's write-key check (POST /v1/consent comes from the shop's pages, like tracking). */
  authenticateWriteKey: (key: string) => Promise<{ sourceId: string } | null>;
};

export type ConsentModuleConfig = ConsentServiceConfig & {
  /** Statistics suppress groups of fewer subjects than this (the shop's k-anonymity, default 10). */
  kAnonymity?: number;
};

/**
 * What other modules may ask the ledger: was `purpose` granted for these linked subjects at time `ts`,
 * and by which record; and a GPC signal seen on a request.
 */
export type ConsentReader = {
  stateAt: (subjectIds: readonly string[], purpose: Purpose, ts: number) => Promise<PurposeState>;
  /** The same answer when it is at hand without a read (a cached ledger), else undefined. */
  cachedStateAt: (subjectIds: readonly string[], purpose: Purpose, ts: number) => PurposeState | undefined;
  /**
   * Makes every decision any process has already recorded visible to the next `stateAt` calls (one round
   * trip when several processes share the store, nothing otherwise). Ingestion calls it once per request.
   */
  sync: () => Promise<void>;
  signalGpc: (
    subjectIds: readonly string[],
    options: { channel: string | null; actor: string },
  ) => Promise<unknown>;
};

export type ConsentModule = CandorModule & {
  readonly service: ConsentService;
  readonly reader: ConsentReader;
};

export function createConsentModule(
  deps: ConsentModuleDeps,
  config: ConsentModuleConfig = {},
): ConsentModule {
  const service = createConsentService(deps, config);
  return {
    name: 'consent',
    service,
    reader: {
      stateAt: (subjectIds, purpose, ts) => service.stateAt(subjectIds, purpose, ts),
      cachedStateAt: (subjectIds, purpose, ts) => service.cachedStateAt(subjectIds, purpose, ts),
      signalGpc: (subjectIds, options) => service.signalGpc(subjectIds, options),
      sync: () => service.sync(),
    },
    migrations: consentMigrations(deps.state),
    routes: (router) =>
      consentRoutes(router, {
        service,
        guards: deps.guards,
        pseudonymize: deps.pseudonymize,
        authenticateWriteKey: deps.authenticateWriteKey,
        legalBasisOf: (p) => LEGAL_BASIS[p],
        kAnonymity: config.kAnonymity ?? 10,
        now: () => deps.clock.now().getTime(),
      }),
    start: () => service.start(),
    stop: () => service.stop(),
  };
}
