/**
 * The module list: the one place that creates capability modules and maps the composition root's
 * context onto each module's own deps record. Add a module by adding one entry here.
 */
import { AppError } from '../kernel/errors.ts';
import type { CandorModule } from '../kernel/module.ts';
import { createAuditModule, type AuditModule } from '../modules/audit/index.ts';
import { createAuthModule } from '../modules/auth/index.ts';
import { createCatalogModule } from '../modules/catalog/index.ts';
import { createConsentModule } from '../modules/consent/index.ts';
import { createIngestModule } from '../modules/ingest/index.ts';
import {
  createDsarStore,
  createHolderRegistry,
  createPrivacyModule,
  type PrivacyModule,
} from '../modules/privacy/index.ts';
import { createProfilesModule } from '../modules/profiles/index.ts';
import type { Purpose } from '../modules/consent/index.ts';
import { createExportFlow } from '../flows/dsar-export/index.ts';
import { createErasureFlow } from '../flows/dsar-erase/index.ts';
import type { ModuleContext } from './context.ts';

/** resolveSecrets guarantees every secret; this keeps the types honest about it. */
function required(value: string | undefined, name: string): string {
  if (!value)
    throw new AppError(
      'missing_secret',
      `The ${name} secret is missing; resolve secrets before creating modules.`,
    );
  return value;
}

export function createModules(context: ModuleContext): CandorModule[] {
  const { stores, logger, clock, config } = context;
  // auth writes to audit and audit's routes are guarded by auth: the writer forwards at call time.
  const late: { audit?: AuditModule } = {};
  const auditWriter = {
    record: (entry: Parameters<AuditModule['service']['record']>[0]) => late.audit!.service.record(entry),
  };
  const auth = createAuthModule(
    {
      state: stores.state,
      clock,
      logger: logger.child({ module: 'auth' }),
      keyRing: context.keyRing,
      pseudonymize: context.pseudonymize,
      audit: auditWriter,
    },
    {
      sessionSecret: required(config.secrets.sessionSecret, 'sessionSecret'),
      shopperTokenSecret: required(config.secrets.shopperTokenSecret, 'shopperTokenSecret'),
      redisUrl: config.redisUrl,
    },
  );
  const guards = context.guards ?? auth.guards;
  const audit = createAuditModule(
    { state: stores.state, clock, logger: logger.child({ module: 'audit' }), guards },
    { signingKey: config.secrets.signingKey },
  );
  late.audit = audit;
  const consent = createConsentModule(
    {
      state: stores.state,
      clock,
      pseudonymize: context.pseudonymize,
      audit: auditWriter,
      guards,
      authenticateWriteKey: auth.authenticateWriteKey.bind(auth),
    },
    {},
  );
  // Personal-data holders register here as modules are created; export and erasure walk them.
  const registry = createHolderRegistry();
  // The consent ledger's holder: the full decision history is exported; erasure is the ledger's one delete.
  registry.register({
    describe: () => ({
      name: 'consent',
      summary:
        'Every consent decision you made: purposes granted or refused, the notice version you saw, how and when.',
      sources: [
        'your choices in the consent banner, the privacy centre, or your browser (Global Privacy Control)',
      ],
      tables: [
        {
          store: 'state',
          table: 'consent_records',
          subjectColumns: ['subject_id', 'subject_ids'],
          category: 'consent',
          purpose: 'Proving that processing had your consent (GDPR Art. 7(1)).',
          retention: 'Until erasure.',
        },
        {
          store: 'state',
          table: 'consent_record_subjects',
          subjectColumns: ['subject_id'],
          category: 'consent',
          purpose: 'Finding your decisions under every pseudonym linked to you.',
          retention: 'Until erasure.',
        },
      ],
    }),
    export: async (subject) => {
      const h = await consent.service.history(subject.subjectIds);
      return {
        tables: {
          consent_records: h.records.map((r) => ({ ...r })),
          current_state:
            h.records.length === 0
              ? []
              : Object.entries(h.current).map(([purpose, st]) => ({ purpose, ...st })),
        },
      };
    },
    erase: async (subject) => ({ deleted: await consent.service.eraseSubjects(subject.subjectIds) }),
  });
  registry.exempt({
    store: 'state',
    table: 'staff',
    reason: 'staff accounts (auth), not shoppers; the e-mail is sealed and managed by staff administration',
  });
  registry.exempt({
    store: 'state',
    table: 'security_alerts',
    column: 'subject',
    reason: 'abuse alerts name staff ids, API keys or hashed network keys, never a shopper pseudonym',
  });
  const profiles = createProfilesModule({
    state: stores.state,
    events: stores.events,
    clock,
    logger: logger.child({ module: 'profiles' }),
    guards,
    keyRing: context.keyRing,
    pseudonymize: context.pseudonymize,
    consent: {
      granted: async (ids, purpose) =>
        (await consent.reader.stateAt(ids, purpose as Purpose, clock.now().getTime())).granted,
    },
    audit: auditWriter,
    registry,
  });
  const ingest = createIngestModule(
    {
      state: stores.state,
      events: stores.events,
      clock,
      pseudonymize: context.pseudonymize,
      consent: consent.reader,
      vault: {
        storeIdentifiers: (subjectId, identifiers) => profiles.storeIdentifiers(subjectId, identifiers),
      },
      identity: { link: async (input) => void (await profiles.identity.link(input)) },
      guards,
      authenticateWriteKey: auth.authenticateWriteKey.bind(auth),
    },
    {},
  );
  const lateP: { privacy?: PrivacyModule } = {};
  const exportFlow = createExportFlow({
    registry,
    clock,
    retentionPolicies: () => lateP.privacy!.retention.policies(),
    processors: () => lateP.privacy!.processing.listProcessors(),
  });
  const erasureFlow = createErasureFlow(
    {
      state: stores.state,
      events: stores.events,
      registry,
      dsar: createDsarStore({ state: stores.state, clock }),
      clock,
      logger: logger.child({ flow: 'dsar-erase' }),
      processors: () => lateP.privacy!.processing.listProcessors(true),
      logShare: (entry) => lateP.privacy!.processing.logShare(entry),
    },
    { signingKey: config.secrets.signingKey },
  );
  const privacy = createPrivacyModule(
    {
      state: stores.state,
      events: stores.events,
      jobs: stores.jobs,
      clock,
      logger: logger.child({ module: 'privacy' }),
      guards,
      audit: auditWriter,
      registry,
      runners: {
        exportBundle: (subject, requestId) => exportFlow.exportSubject(subject, requestId),
        erase: (requestId) => erasureFlow.erase(requestId),
      },
      resolveSubject: (id) => profiles.resolveSubject(id, true),
      findSubjectByEmail: (email) => profiles.findSubjectByEmail(email),
    },
    {
      codeSecret: required(config.secrets.sessionSecret, 'sessionSecret'),
      controller: config.publicUrl ?? 'this shop',
    },
  );
  lateP.privacy = privacy;
  const catalog = createCatalogModule(
    { state: stores.state, guards, logger: logger.child({ module: 'catalog' }), clock },
    {},
  );
  return [audit, auth, catalog, consent, ingest, profiles, privacy];
}
