/**
 * The module list: the one place that creates capability modules and maps the composition root's
 * context onto each module's own deps record. Add a module by adding one entry here.
 */
import { AppError } from '../kernel/errors.ts';
import { createTextMailer, smtpSettingsOf } from '../kernel/mailer.ts';
import type { CandorModule } from '../kernel/module.ts';
import { createAnalyticsModule } from '../modules/analytics/index.ts';
import { createAuditModule, type AuditModule } from '../modules/audit/index.ts';
import { createAuthModule, ipKey } from '../modules/auth/index.ts';
import { createCatalogModule } from '../modules/catalog/index.ts';
import { createChatbotModule } from '../modules/chatbot/index.ts';
import { createFraudModule } from '../modules/fraud/index.ts';
import { createConsentModule } from '../modules/consent/index.ts';
import { createIngestModule } from '../modules/ingest/index.ts';
import { createMarketingModule, type MarketingModule } from '../modules/marketing/index.ts';
import { createOrdersModule, DEFAULT_ORDER_RETENTION_DAYS } from '../modules/orders/index.ts';
import {
  createDsarStore,
  createErasedSubjects,
  createEventPurges,
  createHolderRegistry,
  createPrivacyModule,
  createTakeBack,
  type PrivacyModule,
  type Subject,
} from '../modules/privacy/index.ts';
import { createProfilesModule, tagOf } from '../modules/profiles/index.ts';
import { createRecommendModule } from '../modules/recommend/index.ts';
import type { Purpose } from '../modules/consent/index.ts';
import { createExportFlow } from '../flows/dsar-export/index.ts';
import { createErasureFlow } from '../flows/dsar-erase/index.ts';
import type { ModuleContext } from './context.ts';
import { planRole } from './roles.ts';

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
  // Live segments: stored events, consent decisions and profile changes name the subjects to re-evaluate;
  // marketing is created last, so the notes go through this late binding (and queue, never block).
  const lateM: { marketing?: MarketingModule } = {};
  const segmentsFollow = (subjectIds: Iterable<string>) =>
    lateM.marketing?.segments?.noteActivity(subjectIds);
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
      ...(config.rateLimits ? { rateLimits: config.rateLimits } : {}),
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
      onDecision: segmentsFollow,
    },
    { kAnonymity: config.privacy.kAnonymity },
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
      // Personalisation off must hold at once, also when another process recorded the withdrawal.
      granted: async (ids, purpose) => {
        await consent.reader.sync();
        return (await consent.reader.stateAt(ids, purpose as Purpose, clock.now().getTime())).granted;
      },
    },
    // Staff reads of personal data also feed abuse detection (bulk PII reads raise an alert).
    audit: {
      record: (entry) => {
        if (entry.action === 'pii.read' && entry.outcome === 'success' && entry.actor.startsWith('staff:'))
          auth.notePiiRead(entry.actor.slice('staff:'.length));
        return auditWriter.record(entry);
      },
    },
    registry,
    onChange: segmentsFollow,
  });
  // Subjects erased lately, for every process: buffered writes begun before an erasure leave them out.
  const erased = createErasedSubjects({ state: stores.state, clock });
  const purges = createEventPurges(
    {
      state: stores.state,
      events: stores.events,
      clock,
      logger: logger.child({ component: 'events-purge' }),
    },
    config.privacy.inlinePurgeMaxEvents !== undefined
      ? { inlineMaxEvents: config.privacy.inlinePurgeMaxEvents }
      : {},
  );
  // What a write begun before an erasure stored after it is erased again, and its event bytes purged.
  const takeBack = createTakeBack({ registry, purges, logger: logger.child({ component: 'take-back' }) });
  // Order records: fed by signed platform webhooks and by stored order events; read by staff, shoppers, chat.
  const orders = createOrdersModule({
    erased,
    state: stores.state,
    clock,
    logger: logger.child({ module: 'orders' }),
    guards,
    pseudonymize: context.pseudonymize,
    registry,
    // With the shopper's own address, their guest checkouts too ("my orders", the chat's order check).
    linkedSubjects: async (id) => (await shopperWithOrderEmail(id)).subjectIds,
    retentionDays: async () =>
      (await lateP.privacy!.retention.policies()).find((p) => p.dataClass === 'orders')?.ttlDays ??
      DEFAULT_ORDER_RETENTION_DAYS,
    // Where the live feed (onStored below) lost an order — a crash, a full queue — the catch-up job finds it.
    events: stores.events,
    // At start too, but only where jobs run: API processes would all repeat the workers' scan.
    catchUpAtStart: planRole(config).jobs,
  });
  const ingest = createIngestModule(
    {
      state: stores.state,
      events: stores.events,
      clock,
      pseudonymize: context.pseudonymize,
      consent: consent.reader,
      vault: {
        prepareIdentifiers: (subjectId, identifiers) =>
          profiles.vault.prepareIdentifiers(subjectId, identifiers),
      },
      identity: { prepareLink: (input) => profiles.identity.prepareLink(input) },
      // Time zone and locale a device reports: quiet hours and message language for campaigns.
      preferences: {
        preparePreferences: (subjectId, reported) =>
          profiles.profiles.preparePreferences(subjectId, reported),
      },
      guards,
      keyRing: context.keyRing,
      authenticateWriteKey: auth.authenticateWriteKey.bind(auth),
      // Server mode: publish to the stream; workers consume it (src/server/roles.ts).
      ...(stores.stream && planRole(config).publishToStream ? { stream: stores.stream } : {}),
      // Stored order events become order records in the orders module's own queue, off the commit path.
      onStored: (events) => {
        orders.service.enqueueEvents(events);
        segmentsFollow(events.map((e) => e.subjectId));
      },
      // A request prepared before an erasure finished, durable after its deletes: erased again.
      erasures: {
        anyErasedSince: (at) => erased.anyErasedSince(at),
        erasedSince: (ids, at) => erased.erasedSince(ids, at),
        eraseAgain: (subjectIds) => takeBack.eraseAgain(subjectIds),
      },
      orders: { fromPlatform: (...args) => orders.service.fromPlatform(...args) },
    },
    { consumeStream: planRole(config).consumeStream },
  );
  const lateP: { privacy?: PrivacyModule } = {};
  const withOrderEmail = (subject: Subject, email: string | null | undefined): Subject => {
    if (!email) return subject;
    const key = orders.service.orderEmailKey(email);
    return subject.subjectIds.includes(key)
      ? subject
      : { ...subject, subjectIds: [...subject.subjectIds, key] };
  };
  /** A shopper's linked pseudonyms plus the order-e-mail key of the address in their vault, if any. */
  const shopperWithOrderEmail = async (id: string): Promise<Subject> => {
    const subject = await profiles.resolveSubject(id, true);
    const { email } = await profiles.vault.readForSubject(subject.subjectIds);
    return withOrderEmail(subject, email);
  };
  const exportFlow = createExportFlow({
    registry,
    clock,
    retentionPolicies: () => lateP.privacy!.retention.policies(),
    processors: () => lateP.privacy!.processing.listProcessors(),
  });
  const smtp = smtpSettingsOf(config.smtpUrl, config.smtpFrom);
  // A transport without pooling opens one connection per message: nothing to close at shutdown.
  const codeMailer = smtp ? createTextMailer(smtp) : undefined;
  const shopName = config.publicUrl ? new URL(config.publicUrl).host : 'our shop';
  const erasureFlow = createErasureFlow(
    {
      purges,
      state: stores.state,
      events: stores.events,
      registry,
      dsar: createDsarStore({ state: stores.state, clock }),
      erased,
      clock,
      logger: logger.child({ flow: 'dsar-erase' }),
      processors: () => lateP.privacy!.processing.listProcessors(true),
      logShare: (entry) => lateP.privacy!.processing.logShare(entry),
    },
    { signingKey: config.secrets.signingKey },
  );
  const privacy = createPrivacyModule(
    {
      purges,
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
      // A guest checkout leaves an order linked only to a keyed hash of its e-mail: a subject whose address
      // is known carries that hash too, so export and erasure also find the orders placed without an account.
      resolveSubject: shopperWithOrderEmail,
      findSubjectByEmail: async (email) => {
        const subject = await profiles.findSubjectByEmail(email);
        if (subject) return withOrderEmail(subject, email);
        // No profile, but orders from a guest checkout with this address: they are the subject.
        const key = orders.service.orderEmailKey(email);
        return (await orders.service.hasOrdersOfEmailKey(key)) ? { subjectIds: [key] } : null;
      },
      // One-time codes go by e-mail through the configured relay, to the address in the PII vault.
      ...(codeMailer
        ? {
            codeEmail: {
              emailOf: async (subject, requestedAddress) => {
                const stored = (await profiles.vault.readForSubject(subject.subjectIds)).email;
                if (stored) return stored;
                // A guest checkout's shopper: the address whose keyed hash is on their orders.
                return requestedAddress !== undefined &&
                  subject.subjectIds.includes(orders.service.orderEmailKey(requestedAddress))
                  ? requestedAddress
                  : null;
              },
              send: (mail) => codeMailer.send(mail),
            },
          }
        : {}),
    },
    {
      codeSecret: required(config.secrets.sessionSecret, 'sessionSecret'),
      controller: config.publicUrl ?? 'this shop',
      shopName,
    },
  );
  lateP.privacy = privacy;
  const catalog = createCatalogModule(
    { state: stores.state, guards, logger: logger.child({ module: 'catalog' }), clock },
    {},
  );
  const fraud = createFraudModule(
    {
      state: stores.state,
      clock,
      logger: logger.child({ module: 'fraud' }),
      guards,
      pseudonymize: context.pseudonymize,
      audit: auditWriter,
      // Prices in minor units and the category path, as the catalogue holds them.
      catalog: {
        prices: async (ids) =>
          new Map(
            (await catalog.service.getProducts(ids)).map((p) => [
              p.id,
              { price: p.price, currency: p.currency, category: p.categoryPath.join('/') || null },
            ]),
          ),
      },
    },
    {},
  );
  registry.register(fraud.holder);
  const recommend = createRecommendModule(
    {
      state: stores.state,
      events: stores.events,
      catalog: catalog.service,
      personalisation: { isPersonalised: (ids) => profiles.isPersonalised({ subjectIds: [...ids] }) },
      interests: {
        of: (ids) => profiles.profiles.interestTags({ subjectIds: [...ids] }),
        tagOf,
      },
      // The same pseudonyms ingestion stores events under (namespaces of pseudonymise-event.step).
      subjectsOf: (q) => [
        ...(q.userId !== undefined ? [context.pseudonymize('user', q.userId)] : []),
        ...(q.anonymousId !== undefined ? [context.pseudonymize('device', q.anonymousId)] : []),
      ],
      guards,
      clock,
      logger: logger.child({ module: 'recommend' }),
      registry,
      audit: auditWriter,
      erased,
    },
    {},
  );
  const chatbot = createChatbotModule(
    {
      state: stores.state,
      clock,
      logger: logger.child({ module: 'chatbot' }),
      guards,
      registry,
      rateLimit: (options) => auth.rateLimit(options),
      clientKey: (c) => ipKey(c, context.pseudonymize),
      // Order status and cancel requests: verified by order number + e-mail, or by the signed-in shopper.
      orders: { verify: (input) => orders.service.verify(input) },
      // Agent replies to WhatsApp/Instagram: the outbox retries them; sender addresses stay sealed.
      jobs: stores.jobs,
      sealer: {
        seal: (plain) => context.keyRing.wrap(Buffer.from(plain, 'utf8')),
        open: (sealed) => context.keyRing.unwrap(sealed).toString('utf8'),
      },
      // A shopper's report in the chat opens a fraud case for the security team.
      fraud: {
        openCase: async ({ subjectId, conversationId }) => {
          const opened = await fraud.service.openCase(
            { source: 'shopper_report', kind: 'unrecognised_charge', ...(subjectId ? { subjectId } : {}) },
            `chatbot:${conversationId}`,
          );
          return { caseId: opened.id };
        },
      },
      // Product names for entity extraction and product questions (first 5,000 active products, cached).
      products: async () => {
        const out: { id: string; titles: string[]; price: number; currency: string; stock: number }[] = [];
        let cursor: string | undefined;
        do {
          const page = await catalog.service.listProducts({}, { limit: 500, cursor });
          for (const p of page.items)
            out.push({
              id: p.id,
              titles: [p.title.en, p.title.id, p.title.zh].filter((t): t is string => !!t),
              price: p.price,
              currency: p.currency,
              stock: p.stock,
            });
          cursor = page.nextCursor ?? undefined;
        } while (cursor && out.length < 5000);
        return out;
      },
    },
    {
      ...(config.chatbot?.whatsapp || config.chatbot?.instagram
        ? {
            channels: {
              ...(config.chatbot.whatsapp ? { whatsapp: config.chatbot.whatsapp } : {}),
              ...(config.chatbot.instagram ? { instagram: config.chatbot.instagram } : {}),
            },
          }
        : {}),
      ...(config.chatbot?.llm ? { llm: config.chatbot.llm } : {}),
    },
  );
  // Experiments and loyalty; shoppers are the same pseudonyms ingestion stores (user / device namespaces).
  const marketing = createMarketingModule(
    {
      state: stores.state,
      clock,
      logger: logger.child({ module: 'marketing' }),
      guards,
      subjectOf: (who) =>
        who.userId !== undefined
          ? context.pseudonymize('user', who.userId)
          : context.pseudonymize('device', who.anonymousId ?? ''),
      registry,
      events: stores.events,
      audit: auditWriter,
      // Segments and campaigns see profiles only through isPersonalised, the vault only for the send's purpose.
      audience: {
        linked: async (id) => (await profiles.resolveSubject(id)).subjectIds,
        isPersonalised: (ids) => profiles.isPersonalised({ subjectIds: [...ids] }),
        profileOf: async (ids) => {
          const subject = { subjectIds: [...ids] };
          const traits = Object.fromEntries(
            (await profiles.profiles.traits(subject)).map((t) => [t.trait, t.value]),
          );
          const { interests } = await profiles.profiles.interests(subject);
          return { traits, interests: interests.map((i) => i.tag) };
        },
        consentAt: async (ids, purpose, ts) =>
          (await consent.reader.stateAt(ids, purpose as Purpose, ts)).granted,
        contactOf: async (ids, purpose) => {
          const pii = await profiles.vault.readForSubject(ids);
          await auditWriter.record({
            actor: 'system:campaigns',
            action: 'pii.read',
            target: (await profiles.vault.keyIdOf(ids[0] ?? '')) ?? null,
            purpose,
            outcome: 'success',
            details: { fields: 'email,name' },
          });
          return { email: pii.email ?? null, name: pii.name ?? null };
        },
        preferencesOf: (ids) => profiles.profiles.preferencesOf({ subjectIds: [...ids] }),
        products: async (ids, personalised, limit) => {
          const { items } = await recommend.service.recommend({
            surface: 'for-you',
            subjectIds: personalised ? ids : [],
            limit,
          });
          // Product blocks show the catalogue title, not the id.
          const byId = new Map(
            (await catalog.service.getProducts(items.map((i) => i.itemId))).map((p) => [p.id, p]),
          );
          return items.map((i) => {
            const t = byId.get(i.itemId)?.title;
            return { id: i.itemId, title: t?.en ?? t?.id ?? t?.zh ?? i.itemId };
          });
        },
        logShare: (entry) => privacy.processing.logShare(entry),
      },
    },
    {
      segments: { kAnonymity: config.privacy.kAnonymity },
      campaigns: {
        secret: required(config.secrets.sessionSecret, 'sessionSecret'),
        publicUrl: config.publicUrl ?? 'http://127.0.0.1:3000',
        shopName,
        smtp,
      },
    },
  );
  lateM.marketing = marketing;
  return [
    audit,
    auth,
    marketing,
    catalog,
    chatbot,
    // Before ingest: modules stop in reverse order, so orders drains what ingestion's last flush queued.
    orders,
    fraud,
    recommend,
    consent,
    ingest,
    profiles,
    privacy,
    createAnalyticsModule(
      {
        events: stores.events,
        state: stores.state,
        clock,
        logger: logger.child({ module: 'analytics' }),
        guards,
        // Declared traits only, and only while the shopper's personalisation consent (under which they
        // were declared) still stands: a withdrawal drops the shopper from the next answer.
        demographics: async (subjectIds) => {
          const out = new Map<string, { ageBand?: string; gender?: string; region?: string }>();
          const now = clock.now().getTime();
          for (const id of subjectIds) {
            const traits = (await profiles.profiles.traits({ subjectIds: [id] })).filter(
              (t) => t.source === 'declared' && typeof t.value === 'string',
            );
            if (traits.length === 0) continue;
            if (!(await consent.reader.stateAt([id], 'personalization', now)).granted) continue;
            const v = (name: string) => traits.find((t) => t.trait === name)?.value as string | undefined;
            const age = v('age_band');
            const gender = v('gender');
            const region = v('region');
            out.set(id, {
              ...(age !== undefined ? { ageBand: age } : {}),
              ...(gender !== undefined ? { gender } : {}),
              ...(region !== undefined ? { region } : {}),
            });
          }
          return out;
        },
      },
      { kAnonymity: config.privacy.kAnonymity },
    ),
  ];
}
