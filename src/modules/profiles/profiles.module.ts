import type { Clock } from '../../kernel/clock.ts';
import type { KeyRing, Pseudonymizer } from '../../kernel/crypto.ts';
import type { Guards } from '../../kernel/http.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { CandorModule } from '../../kernel/module.ts';
import type { EventStore, StateStore } from '../../storage/ports.ts';
import type { HolderRegistry, Subject } from '../privacy/index.ts';
import { createIdentityService, type IdentityService, type ProfilesConsent } from './identity.service.ts';
import { createProfilesHolder } from './profiles.holder.ts';
import { mountProfilesRoutes } from './profiles.routes.ts';
import { createProfilesService, type ProfilesService } from './profiles.service.ts';
import { profilesMigrations } from './store.ts';
import {
  createVaultService,
  normaliseEmail,
  type Identifiers,
  type VaultAudit,
  type VaultService,
} from './vault.service.ts';

export type ProfilesModuleDeps = {
  state: StateStore;
  events: EventStore;
  clock: Clock;
  logger: Logger;
  guards: Guards;
  keyRing: KeyRing;
  pseudonymize: Pseudonymizer;
  consent: ProfilesConsent;
  audit: VaultAudit;
  registry: HolderRegistry;
  /**
   * Told which subjects' traits, interests or personalisation settings just changed (segments re-evaluate
   * them). Called synchronously and never awaited: a listener queues its own work.
   */
  onChange?: (subjectIds: readonly string[]) => void;
};

export type ProfilesModuleConfig = { refreshEveryMs?: number };

/** What other modules are handed (by the composition root) to use profiles. */
export type ProfilesModule = CandorModule & {
  readonly vault: VaultService;
  readonly identity: IdentityService;
  readonly profiles: ProfilesService;
  /** Ingest's vault dep. */
  storeIdentifiers(subjectId: string, identifiers: Identifiers): Promise<void>;
  /** Every pseudonym of the person; `isUser` when the id is a customer pseudonym. */
  resolveSubject(subjectId: string, isUser?: boolean): Promise<Subject>;
  /** Recommendations, segments, campaigns and search ask this before using any profile data. */
  isPersonalised(subject: Subject): Promise<boolean>;
  findSubjectByEmail(email: string): Promise<Subject | null>;
};

export const PROFILES_REFRESH_JOB = 'profiles.refresh';

export function createProfilesModule(
  deps: ProfilesModuleDeps,
  config: ProfilesModuleConfig = {},
): ProfilesModule {
  const vault = createVaultService({
    state: deps.state,
    clock: deps.clock,
    keyRing: deps.keyRing,
    pseudonymize: deps.pseudonymize,
    audit: deps.audit,
  });
  const identity = createIdentityService({
    state: deps.state,
    clock: deps.clock,
    consent: deps.consent,
    audit: deps.audit,
    keyIdOf: (id) => vault.keyIdOf(id),
  });
  const profiles = createProfilesService({
    state: deps.state,
    events: deps.events,
    clock: deps.clock,
    logger: deps.logger,
    consent: deps.consent,
    onChange: deps.onChange,
  });
  deps.registry.register(createProfilesHolder({ vault, identity, profiles }));
  const every = config.refreshEveryMs ?? 60 * 60 * 1000;

  return {
    name: 'profiles',
    vault,
    identity,
    profiles,
    storeIdentifiers: (subjectId, identifiers) => vault.storeIdentifiers(subjectId, identifiers),
    resolveSubject: (subjectId, isUser) => identity.resolve(subjectId, isUser),
    isPersonalised: profiles.isPersonalised,
    async findSubjectByEmail(email) {
      const ids = await vault.findByIdentifier('email', normaliseEmail(email));
      const first = ids[0];
      return first === undefined ? null : identity.resolve(first);
    },
    migrations: profilesMigrations(deps.state.dialect),
    routes: (router) =>
      mountProfilesRoutes(router, {
        profiles,
        vault,
        identity,
        guards: deps.guards,
        resolveShopper: (id) => identity.resolve(id, true),
      }),
    jobs: {
      [PROFILES_REFRESH_JOB]: async (payload) => {
        // A payload may widen the window, e.g. after importing history whose receive times are in the past.
        const requested = (payload as { sinceTs?: unknown } | null)?.sinceTs;
        const since =
          typeof requested === 'number' && Number.isFinite(requested)
            ? requested
            : deps.clock.now().getTime() - every * 2;
        const n = await profiles.refreshActive(since, (id) => identity.resolve(id));
        deps.logger.info({ refreshed: n }, 'profiles refreshed');
      },
    },
    schedules: [{ name: PROFILES_REFRESH_JOB, kind: PROFILES_REFRESH_JOB, everyMs: every }],
  };
}
