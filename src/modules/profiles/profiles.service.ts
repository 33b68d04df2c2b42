/**
 * Profiles: declared traits (only with consent), computed traits and interest tags (only while the
 * shopper is personalised), the personalisation switch and restriction of processing. `isPersonalised`
 * is the one answer every consumer of the profile (recommendations, segments, campaigns, search) asks.
 */
import { sql } from 'kysely';
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

export function createProfilesService(deps: {
  state: StateStore;
  events: EventStore;
  clock: Clock;
  logger: Logger;
  consent: ProfilesConsent;
}) {
  const db = profilesDb(deps.state);
  const now = () => deps.clock.now().getTime();

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
    },

    /** Recomputes traits and interest tags from the event store; a no-op (and a clean slate) when not personalised. */
    async refresh(subject: Subject): Promise<boolean> {
      const ids = subjectIdsOf(subject);
      if (!(await isPersonalised(subject))) {
        await clearComputed(ids);
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
      return true;
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
      return Number(r.numDeletedRows) > 0;
    },

    /** The switch: off stops profiling at once and removes what profiling produced; declared traits stay. */
    async setPersonalization(subject: Subject, enabled: boolean): Promise<void> {
      await setSetting(subject, { personalization: enabled ? 1 : 0 });
      if (!enabled) await clearComputed(subjectIdsOf(subject));
    },

    /** Restriction of processing (GDPR Art. 18): nothing is derived or used while it holds. */
    async setRestricted(subject: Subject, restricted: boolean): Promise<void> {
      await setSetting(subject, { restricted: restricted ? 1 : 0 });
      if (restricted) await clearComputed(subjectIdsOf(subject));
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
