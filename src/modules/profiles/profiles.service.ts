/**
 * Profiles: declared traits (only with consent), computed traits and interest tags (only while the
 * shopper is personalised), the personalisation switch and restriction of processing. `isPersonalised`
 * is the one answer every consumer of the profile (recommendations, segments, campaigns, search) asks.
 */
import { sql, type Kysely } from 'kysely';
import type { Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { EventStore, StateStore } from '../../storage/ports.ts';
import { subjectIdsOf, type Subject } from '../privacy/index.ts';
import type { ProfilesConsent } from './identity.service.ts';
import { profilesDb } from './store.ts';
import { computeTraits, tagOf, type InterestTag } from './traits.ts';

export const DECLARED_TRAITS = {
  age_band: ['under_18', '18_24', '25_34', '35_44', '45_54', '55_64', '65_plus'],
  gender: ['female', 'male', 'non_binary', 'prefer_not_to_say'],
  region: null,
} as const;
export type DeclaredTraitName = keyof typeof DECLARED_TRAITS;
export type DeclaredTraits = Partial<Record<DeclaredTraitName, string>>;

const COMPUTED = ['rfm', 'lifecycle', 'churn_risk'] as const;
const PROFILE_PURPOSE = 'personalization';
/** Events scanned per subject when computing traits (the newest matter; this bounds the work). */
const MAX_EVENTS = 20_000;
/** Source of the time zone and locale rows: what the shopper's own device reported with an event. */
const DEVICE = 'device';
/** Subjects whose last stored preferences are remembered, so repeated events cost no write. */
const PREFERENCE_MEMORY = 100_000;
/** How long a reported pair is trusted as handled before it is compared with what was stored again. */
const RECHECK_MS = 60_000;

/** Where and in which language a shopper is, as their device reports it (quiet hours, message language). */
export type Preferences = { timeZone: string | null; locale: string | null };

/** An IANA zone Intl knows, in its canonical spelling; anything else is not stored. */
export function canonicalTimeZone(raw: unknown): string | null {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 64) return null;
  try {
    return new Intl.DateTimeFormat('en', { timeZone: raw }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/** A BCP 47 language tag (`id-ID`, `zh-Hans-CN`), canonicalised; anything else is not stored. */
export function canonicalLocale(raw: unknown): string | null {
  if (typeof raw !== 'string' || !/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,3}$/.test(raw)) return null;
  try {
    return Intl.getCanonicalLocales(raw.replace(/_/g, '-'))[0] ?? null;
  } catch {
    return null;
  }
}

export function createProfilesService(deps: {
  state: StateStore;
  events: EventStore;
  clock: Clock;
  logger: Logger;
  consent: ProfilesConsent;
  /** Told (synchronously, never awaited) which subjects' traits, interests or settings just changed. */
  onChange?: ((subjectIds: readonly string[]) => void) | undefined;
}) {
  const db = profilesDb(deps.state);
  const now = () => deps.clock.now().getTime();
  const changed = (ids: readonly string[]) => {
    if (ids.length > 0) deps.onChange?.(ids);
  };
  // subject → "zone|locale" last stored by this process, and the raw pair last reported (ingestion calls
  // preparePreferences per event); zone and locale spellings → their canonical form (there are few).
  const storedPreferences = new Map<string, string>();
  const reportedLast = new Map<string, { raw: string; at: number }>();
  const zones = new Map<string, string | null>();
  const locales = new Map<string, string | null>();
  const remember = <V>(map: Map<string, V>, key: string, value: V) => {
    map.delete(key);
    map.set(key, value);
    if (map.size > PREFERENCE_MEMORY) map.delete(map.keys().next().value!);
  };
  const memo = (cache: Map<string, string | null>, v: string | null, f: (v: string) => string | null) => {
    if (v === null) return null;
    let out = cache.get(v);
    if (out === undefined) {
      out = f(v);
      if (cache.size < 10_000) cache.set(v, out);
    }
    return out;
  };

  const settingsOf = async (ids: readonly string[]) =>
    ids.length === 0
      ? []
      : db
          .selectFrom('profile_settings')
          .selectAll()
          .where('subject_id', 'in', [...ids])
          .execute();

  /** Personalised = consent for personalisation granted, not switched off, processing not restricted. */
  const isPersonalised = async (subject: Subject): Promise<boolean> => {
    const ids = subjectIdsOf(subject);
    if (ids.length === 0) return false;
    const settings = await settingsOf(ids);
    if (settings.some((s) => Number(s.personalization) === 0 || Number(s.restricted) === 1)) return false;
    return deps.consent.granted(ids, PROFILE_PURPOSE);
  };

  const suppressedOf = async (ids: readonly string[]): Promise<Set<string>> => {
    if (ids.length === 0) return new Set();
    const rows = await db
      .selectFrom('interest_tag_suppressions')
      .select('tag')
      .where('subject_id', 'in', [...ids])
      .execute();
    return new Set(rows.map((r) => r.tag));
  };

  /** Where a person's profile rows live: the customer pseudonym when known, else the device pseudonym. */
  const primaryOf = (subject: Subject): string => {
    const id = subject.userId ?? subject.subjectIds[0];
    if (!id) throw new AppError('invalid_request', 'The subject has no pseudonym.');
    return id;
  };

  const clearComputed = async (ids: readonly string[]): Promise<void> => {
    if (ids.length === 0) return;
    await db
      .deleteFrom('interest_tags')
      .where('subject_id', 'in', [...ids])
      .execute();
    await db
      .deleteFrom('profile_traits')
      .where('subject_id', 'in', [...ids])
      .where('source', '=', 'computed')
      .execute();
  };

  const setSetting = async (subject: Subject, patch: { personalization?: number; restricted?: number }) => {
    const ts = now();
    for (const id of subjectIdsOf(subject)) {
      const existing = (await settingsOf([id]))[0];
      const values = {
        personalization: patch.personalization ?? Number(existing?.personalization ?? 1),
        restricted: patch.restricted ?? Number(existing?.restricted ?? 0),
        updated_at: ts,
      };
      await db
        .insertInto('profile_settings')
        .values({ subject_id: id, ...values })
        .onConflict((oc) => oc.column('subject_id').doUpdateSet(values))
        .execute();
    }
  };

  return {
    isPersonalised,

    async declareTraits(subject: Subject, traits: DeclaredTraits): Promise<void> {
      if (!(await deps.consent.granted(subjectIdsOf(subject), PROFILE_PURPOSE))) {
        throw new AppError(
          'precondition_failed',
          'Declared traits are stored only with consent for personalisation; ask the shopper first.',
        );
      }
      const ts = now();
      const sid = primaryOf(subject);
      for (const [name, value] of Object.entries(traits) as [DeclaredTraitName, string | undefined][]) {
        if (value === undefined) continue;
        const allowed = DECLARED_TRAITS[name];
        if (
          !(name in DECLARED_TRAITS) ||
          (allowed !== null && !(allowed as readonly string[]).includes(value)) ||
          value.length > 60
        ) {
          throw new AppError(
            'invalid_request',
            `Trait ${name} cannot be '${value}'${allowed ? `; use one of ${allowed.join(', ')}` : ''}.`,
          );
        }
        const v = JSON.stringify(value);
        await db
          .insertInto('profile_traits')
          .values({ subject_id: sid, trait: name, value: v, source: 'declared', updated_at: ts })
          .onConflict((oc) =>
            oc.columns(['subject_id', 'trait']).doUpdateSet({ value: v, source: 'declared', updated_at: ts }),
          )
          .execute();
      }
      changed(subjectIdsOf(subject));
    },

    /** Recomputes traits and interest tags from the event store; a no-op (and a clean slate) when not personalised. */
    async refresh(subject: Subject): Promise<boolean> {
      const ids = subjectIdsOf(subject);
      if (!(await isPersonalised(subject))) {
        await clearComputed(ids);
        changed(ids);
        return false;
      }
      const events = await deps.events.eventsOfSubjects(ids, MAX_EVENTS);
      const t = computeTraits(events, now(), await suppressedOf(ids));
      const sid = primaryOf(subject);
      const ts = now();
      await deps.state.transaction(async (trx) => {
        const x = trx as typeof db;
        const values: Record<(typeof COMPUTED)[number], unknown> = {
          rfm: t.rfm,
          lifecycle: t.lifecycle,
          churn_risk: t.churnRisk,
        };
        for (const trait of COMPUTED) {
          const v = JSON.stringify(values[trait]);
          await x
            .insertInto('profile_traits')
            .values({ subject_id: sid, trait, value: v, source: 'computed', updated_at: ts })
            .onConflict((oc) =>
              oc
                .columns(['subject_id', 'trait'])
                .doUpdateSet({ value: v, source: 'computed', updated_at: ts }),
            )
            .execute();
        }
        await x.deleteFrom('interest_tags').where('subject_id', 'in', ids).execute();
        for (const tag of t.interests) {
          await x
            .insertInto('interest_tags')
            .values({ subject_id: sid, tag: tag.tag, score: tag.score, updated_at: ts })
            .execute();
        }
      });
      changed(ids);
      return true;
    },

    /**
     * Ingestion's preferences dep: the time zone and locale an accepted event's device reported, as a step
     * of the group commit's transaction, or null when they are invalid or unchanged since this process last
     * stored them (so a shopper's stream of events costs one write, not one per event).
     */
    preparePreferences(
      subjectId: string,
      reported: { timeZone: string | null; locale: string | null },
    ): ((trx: Kysely<unknown>) => Promise<void>) | null {
      // Ingestion's hot path: the same device reports the same values with every event, so the raw pair is
      // compared first, before any parsing.
      const raw = `${reported.timeZone ?? ''}|${reported.locale ?? ''}`;
      const seen = reportedLast.get(subjectId);
      const at = now();
      if (seen !== undefined && seen.raw === raw && at - seen.at < RECHECK_MS) return null;
      // Many events of one request carry the same pair: only the first of them prepares a write.
      remember(reportedLast, subjectId, { raw, at });
      const zone = memo(zones, reported.timeZone, canonicalTimeZone);
      const locale = memo(locales, reported.locale, canonicalLocale);
      const last = storedPreferences.get(subjectId)?.split('|');
      const next = [zone ?? last?.[0] ?? '', locale ?? last?.[1] ?? ''].join('|');
      if ((zone === null && locale === null) || last?.join('|') === next) return null;
      return async (trx) => {
        const x = trx as unknown as typeof db;
        const ts = now();
        for (const [trait, value] of [
          ['time_zone', zone],
          ['locale', locale],
        ] as const) {
          if (value === null) continue;
          const v = JSON.stringify(value);
          await x
            .insertInto('profile_traits')
            .values({ subject_id: subjectId, trait, value: v, source: DEVICE, updated_at: ts })
            .onConflict((oc) =>
              oc.columns(['subject_id', 'trait']).doUpdateSet({ value: v, source: DEVICE, updated_at: ts }),
            )
            .execute();
        }
        // Remembered as stored only once written: if the group commit fails, the same pair reported again
        // after RECHECK_MS is compared with what is really stored, and written.
        remember(storedPreferences, subjectId, next);
      };
    },

    /** The newest time zone and locale any of the person's devices reported (campaigns read this). */
    async preferencesOf(subject: Subject): Promise<Preferences> {
      const ids = subjectIdsOf(subject);
      if (ids.length === 0) return { timeZone: null, locale: null };
      const rows = await db
        .selectFrom('profile_traits')
        .select(['trait', 'value'])
        .where('subject_id', 'in', ids)
        .where('trait', 'in', ['time_zone', 'locale'])
        .orderBy('updated_at', 'desc')
        .execute();
      const first = (trait: string) => {
        const r = rows.find((x) => x.trait === trait);
        return r === undefined ? null : (JSON.parse(r.value) as string);
      };
      return { timeZone: first('time_zone'), locale: first('locale') };
    },

    async traits(
      subject: Subject,
    ): Promise<{ trait: string; value: unknown; source: string; updatedAt: number }[]> {
      const ids = subjectIdsOf(subject);
      if (ids.length === 0) return [];
      const rows = await db
        .selectFrom('profile_traits')
        .selectAll()
        .where('subject_id', 'in', ids)
        .orderBy('trait')
        .execute();
      return rows.map((r) => ({
        trait: r.trait,
        value: JSON.parse(r.value) as unknown,
        source: r.source,
        updatedAt: Number(r.updated_at),
      }));
    },

    /**
     * The interest tags that may shape what a shopper is shown, best first: none unless personalised. The
     * serving path (recommendations, once per request): one query, with the settings check inside it,
     * instead of the shopper-facing `interests` (which also lists deleted tags for the privacy centre).
     */
    async interestTags(subject: Subject): Promise<InterestTag[]> {
      const ids = subjectIdsOf(subject);
      if (ids.length === 0) return [];
      const [rows, consented] = await Promise.all([
        db
          .selectFrom('interest_tags')
          .select(['tag', 'score'])
          .where('subject_id', 'in', ids)
          .where((eb) =>
            eb.not(
              eb.exists(
                eb
                  .selectFrom('profile_settings')
                  .select(sql<number>`1`.as('one'))
                  .where('subject_id', 'in', ids)
                  .where((w) => w.or([w('personalization', '=', 0), w('restricted', '=', 1)])),
              ),
            ),
          )
          .orderBy('score', 'desc')
          .execute(),
        deps.consent.granted(ids, PROFILE_PURPOSE),
      ]);
      return consented ? rows.map((r) => ({ tag: r.tag, score: Number(r.score) })) : [];
    },

    async interests(
      subject: Subject,
    ): Promise<{ personalised: boolean; interests: InterestTag[]; deleted: string[] }> {
      const ids = subjectIdsOf(subject);
      const personalised = await isPersonalised(subject);
      const rows =
        ids.length === 0 || !personalised
          ? []
          : await db
              .selectFrom('interest_tags')
              .select(['tag', 'score'])
              .where('subject_id', 'in', ids)
              .orderBy('score', 'desc')
              .execute();
      return {
        personalised,
        interests: rows.map((r) => ({ tag: r.tag, score: Number(r.score) })),
        deleted: [...(await suppressedOf(ids))].sort(),
      };
    },

    /** Deletes one interest tag for good: it is suppressed, so old events never derive it again. */
    async deleteInterest(subject: Subject, rawTag: string): Promise<boolean> {
      const tag = tagOf(rawTag);
      if (!tag)
        throw new AppError('invalid_request', 'Give the tag to delete, as listed by GET /v1/me/interests.');
      const ids = subjectIdsOf(subject);
      const r = await db
        .deleteFrom('interest_tags')
        .where('subject_id', 'in', ids)
        .where('tag', '=', tag)
        .executeTakeFirst();
      await db
        .insertInto('interest_tag_suppressions')
        .values({ subject_id: primaryOf(subject), tag, deleted_at: now() })
        .onConflict((oc) => oc.columns(['subject_id', 'tag']).doNothing())
        .execute();
      changed(ids);
      return Number(r.numDeletedRows) > 0;
    },

    /** The switch: off stops profiling at once and removes what profiling produced; declared traits stay. */
    async setPersonalization(subject: Subject, enabled: boolean): Promise<void> {
      await setSetting(subject, { personalization: enabled ? 1 : 0 });
      if (!enabled) await clearComputed(subjectIdsOf(subject));
      changed(subjectIdsOf(subject));
    },

    /** Restriction of processing (GDPR Art. 18): nothing is derived or used while it holds. */
    async setRestricted(subject: Subject, restricted: boolean): Promise<void> {
      await setSetting(subject, { restricted: restricted ? 1 : 0 });
      if (restricted) await clearComputed(subjectIdsOf(subject));
      changed(subjectIdsOf(subject));
    },

    async settings(subject: Subject): Promise<{ personalization: boolean; restricted: boolean }> {
      const s = await settingsOf(subjectIdsOf(subject));
      return {
        personalization: !s.some((x) => Number(x.personalization) === 0),
        restricted: s.some((x) => Number(x.restricted) === 1),
      };
    },

    /** Recomputes profiles of subjects active since `sinceTs` (the scheduled job). */
    async refreshActive(sinceTs: number, resolve: (subjectId: string) => Promise<Subject>): Promise<number> {
      const r = await sql<{
        subject_id: string;
      }>`select distinct subject_id from events where received_at >= ${new Date(sinceTs)} limit 10000`.execute(
        deps.events.db,
      );
      const seen = new Set<string>();
      let n = 0;
      for (const { subject_id } of r.rows) {
        if (seen.has(subject_id)) continue;
        const subject = await resolve(subject_id);
        for (const id of subject.subjectIds) seen.add(id);
        if (await this.refresh(subject)) n++;
      }
      return n;
    },

    async export(subjectIds: readonly string[]) {
      const ids = [...subjectIds];
      if (ids.length === 0) return { traits: [], interests: [], suppressions: [], settings: [] };
      return {
        traits: await db.selectFrom('profile_traits').selectAll().where('subject_id', 'in', ids).execute(),
        interests: await db.selectFrom('interest_tags').selectAll().where('subject_id', 'in', ids).execute(),
        suppressions: await db
          .selectFrom('interest_tag_suppressions')
          .selectAll()
          .where('subject_id', 'in', ids)
          .execute(),
        settings: await settingsOf(ids),
      };
    },

    async erase(subjectIds: readonly string[]): Promise<number> {
      const ids = [...subjectIds];
      if (ids.length === 0) return 0;
      for (const id of ids) {
        storedPreferences.delete(id);
        reportedLast.delete(id);
      }
      let n = 0;
      for (const table of [
        'profile_traits',
        'interest_tags',
        'interest_tag_suppressions',
        'profile_settings',
      ] as const) {
        const r = await db.deleteFrom(table).where('subject_id', 'in', ids).executeTakeFirst();
        n += Number(r.numDeletedRows);
      }
      return n;
    },
  };
}

export type ProfilesService = ReturnType<typeof createProfilesService>;
