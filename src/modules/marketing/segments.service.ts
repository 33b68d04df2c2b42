/**
 * Segments: a JSON rule tree over profile traits (RFM, lifecycle, churn risk, interest tags, declared traits),
 * behaviour in the event store and consent state. Membership is materialised in `mkt_segment_members` and
 * refreshed by a job and on demand; size estimates hide groups under k from non-privileged staff.
 *
 * Profile data is only used for shoppers who are personalised (consent on, switch on, not restricted): a
 * rule that reads traits or interests never admits anyone else, whatever its `not`s say.
 */
import { sql } from 'kysely';
import { z } from 'zod';
import type { Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import type { EventStore, StateStore } from '../../storage/ports.ts';
import { marketingDb, type SegmentRow } from './store.ts';

const DAY = 86_400_000;
const PURPOSES = [
  'necessary',
  'analytics',
  'personalization',
  'marketing_email',
  'marketing_push',
  'advertising',
  'sale',
] as const;
export type MarketingPurpose = (typeof PURPOSES)[number];

/** Trait paths a rule may read; `rfm.*` are the computed RFM scores, the rest computed or declared traits. */
export const TRAIT_FIELDS = [
  'rfm.r',
  'rfm.f',
  'rfm.m',
  'rfm.recencyDays',
  'rfm.frequency',
  'rfm.monetary',
  'lifecycle',
  'churn_risk',
  'age_band',
  'gender',
  'region',
] as const;

const Scalar = z.union([z.string().max(200), z.number()]);

export type SegmentRule =
  | { all: SegmentRule[] }
  | { any: SegmentRule[] }
  | { not: SegmentRule }
  | {
      trait: (typeof TRAIT_FIELDS)[number];
      op: 'eq' | 'neq' | 'gt' | 'gte' | 'lt' | 'lte' | 'in';
      value: string | number | (string | number)[];
    }
  | { interest: string }
  | {
      event: string;
      min?: number | undefined;
      max?: number | undefined;
      withinDays: number;
      category?: string | undefined;
    }
  | { viewedNotBought: { category: string; withinDays: number } }
  | { consent: MarketingPurpose; granted: boolean };

export const SegmentRuleSchema: z.ZodType<SegmentRule> = z.lazy(() =>
  z.union([
    z.strictObject({ all: z.array(SegmentRuleSchema).min(1).max(50) }),
    z.strictObject({ any: z.array(SegmentRuleSchema).min(1).max(50) }),
    z.strictObject({ not: SegmentRuleSchema }),
    z.strictObject({
      trait: z.enum(TRAIT_FIELDS),
      op: z.enum(['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in']),
      value: z.union([Scalar, z.array(Scalar).min(1).max(100)]),
    }),
    z.strictObject({ interest: z.string().min(1).max(100) }),
    z
      .strictObject({
        event: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'an event type such as order_completed'),
        min: z.number().int().min(0).optional(),
        max: z.number().int().min(0).optional(),
        withinDays: z.number().int().min(1).max(3650),
        category: z.string().min(1).max(200).optional(),
      })
      .refine((r) => r.min !== undefined || r.max !== undefined, 'give min and/or max (times)'),
    z.strictObject({
      viewedNotBought: z.strictObject({
        category: z.string().min(1).max(200),
        withinDays: z.number().int().min(1).max(3650),
      }),
    }),
    z.strictObject({ consent: z.enum(PURPOSES), granted: z.boolean() }),
  ]),
);

/** What segments need from profiles and consent (wired by src/server). */
export type SegmentAudience = {
  /** Every pseudonym of the person (device and customer ids linked). */
  linked(subjectId: string): Promise<string[]>;
  /** profiles.isPersonalised. */
  isPersonalised(subjectIds: readonly string[]): Promise<boolean>;
  /** Computed and declared traits (by trait name: rfm, lifecycle, churn_risk, age_band, …) and interest tags. */
  profileOf(subjectIds: readonly string[]): Promise<{ traits: Record<string, unknown>; interests: string[] }>;
  /** consent.stateAt(...).granted */
  consentAt(subjectIds: readonly string[], purpose: MarketingPurpose, ts: number): Promise<boolean>;
};

export type Segment = {
  id: string;
  key: string;
  name: string;
  rule: SegmentRule;
  profileBased: boolean;
  size: number;
  createdAt: number;
  refreshedAt: number | null;
};

export type SizeEstimate = {
  /** null when the group is smaller than k and the viewer is not privileged. */
  size: number | null;
  suppressed: boolean;
  kAnonymity: number | null;
  profileBased: boolean;
};

export type SegmentsConfig = {
  /** Smallest group size shown to non-privileged staff (config privacy.kAnonymity). */
  kAnonymity?: number;
  /** How far back the event store is scanned for candidate shoppers. */
  universeDays?: number;
  /** How often every segment is fully re-evaluated (the safety net behind live updates); default 10 min. */
  fullRefreshEveryMs?: number;
  /** A background membership update failed (logged by the module; the periodic refresh repairs it). */
  onError?: (error: unknown) => void;
};

export const usesProfile = (rule: SegmentRule): boolean =>
  'all' in rule
    ? rule.all.some(usesProfile)
    : 'any' in rule
      ? rule.any.some(usesProfile)
      : 'not' in rule
        ? usesProfile(rule.not)
        : 'trait' in rule || 'interest' in rule;

/** Subjects per `IN (…)` list: well under every engine's parameter limit. */
const CHUNK = 500;

/** `undefined` (everyone) → one unrestricted pass; a list → its slices (none when it is empty). */
function chunksOf(ids: readonly string[] | undefined): (string[] | null)[] {
  if (ids === undefined) return [null];
  const out: string[][] = [];
  for (let i = 0; i < ids.length; i += CHUNK) out.push(ids.slice(i, i + CHUNK));
  return out;
}

const toSegment = (r: SegmentRow): Segment => ({
  id: r.id,
  key: r.key,
  name: r.name,
  rule: JSON.parse(r.rule) as SegmentRule,
  profileBased: Number(r.profile_based) === 1,
  size: Number(r.size),
  createdAt: Number(r.created_at),
  refreshedAt: r.refreshed_at === null ? null : Number(r.refreshed_at),
});

const pathOf = (traits: Record<string, unknown>, field: string): unknown => {
  const [head, tail] = field.split('.') as [string, string | undefined];
  const v = traits[head];
  if (tail === undefined) return v;
  return v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[tail] : undefined;
};

function compare(actual: unknown, op: string, expected: string | number | (string | number)[]): boolean {
  if (actual === undefined || actual === null) return false;
  if (op === 'in') return (Array.isArray(expected) ? expected : [expected]).some((e) => e === actual);
  if (Array.isArray(expected)) return false;
  if (op === 'eq') return actual === expected;
  if (op === 'neq') return actual !== expected;
  if (typeof actual !== 'number' || typeof expected !== 'number') return false;
  return op === 'gt'
    ? actual > expected
    : op === 'gte'
      ? actual >= expected
      : op === 'lt'
        ? actual < expected
        : actual <= expected;
}

export function createSegmentsService(
  deps: { state: StateStore; events: EventStore; clock: Clock; audience: SegmentAudience },
  config: SegmentsConfig = {},
) {
  const db = marketingDb(deps.state);
  const ev = deps.events.db;
  const now = () => deps.clock.now().getTime();
  const k = config.kAnonymity ?? 10;

  /**
   * The shoppers a rule is evaluated over: everyone with an event in the universe window, or — for an
   * incremental update — only those of `candidates` who have one.
   */
  async function universe(candidates?: readonly string[]): Promise<Set<string>> {
    const since = new Date(now() - (config.universeDays ?? 730) * DAY);
    const out = new Set<string>();
    for (const chunk of chunksOf(candidates)) {
      let q = ev.selectFrom('events').select('subject_id').distinct().where('ts', '>=', since);
      if (chunk) q = q.where('subject_id', 'in', chunk);
      for (const r of await q.execute()) out.add(r.subject_id);
    }
    return out;
  }

  /** Behaviour, written once as Kysely SQL that runs on DuckDB and PostgreSQL alike. */
  async function eventCount(
    rule: Extract<SegmentRule, { event: string }>,
    all: Set<string>,
    restricted: boolean,
  ) {
    const since = new Date(now() - rule.withinDays * DAY);
    const counts = new Map<string, number>();
    for (const chunk of chunksOf(restricted ? [...all] : undefined)) {
      let q = ev
        .selectFrom('events')
        .select(['subject_id', sql<number | bigint>`count(*)`.as('n')])
        .where('type', '=', rule.event)
        .where('ts', '>=', since);
      if (rule.category !== undefined) q = q.where('category', '=', rule.category);
      if (chunk) q = q.where('subject_id', 'in', chunk);
      for (const r of await q.groupBy('subject_id').execute()) counts.set(r.subject_id, Number(r.n));
    }
    const out = new Set<string>();
    for (const s of all) {
      const n = counts.get(s) ?? 0;
      if ((rule.min === undefined || n >= rule.min) && (rule.max === undefined || n <= rule.max)) out.add(s);
    }
    return out;
  }

  async function viewedNotBought(
    rule: { category: string; withinDays: number },
    all: Set<string>,
    restricted: boolean,
  ) {
    const since = new Date(now() - rule.withinDays * DAY);
    const viewers = new Set<string>();
    const bought = new Set<string>();
    for (const chunk of chunksOf(restricted ? [...all] : undefined)) {
      let v = ev
        .selectFrom('events')
        .select('subject_id')
        .distinct()
        .where('type', '=', 'product_view')
        .where('category', '=', rule.category)
        .where('ts', '>=', since);
      if (chunk) v = v.where('subject_id', 'in', chunk);
      for (const r of await v.execute()) viewers.add(r.subject_id);
      // Bought = any order of that category, or of a product seen in that category (orders may lack categories).
      let b = ev
        .selectFrom('events')
        .select('subject_id')
        .distinct()
        .where('type', '=', 'order_completed')
        .where((w) =>
          w.or([
            w('category', '=', rule.category),
            w(
              'product_id',
              'in',
              w
                .selectFrom('events as v')
                .select('v.product_id')
                .where('v.type', '=', 'product_view')
                .where('v.category', '=', rule.category)
                .where('v.product_id', 'is not', null),
            ),
          ]),
        );
      if (chunk) b = b.where('subject_id', 'in', chunk);
      for (const r of await b.execute()) bought.add(r.subject_id);
    }
    return new Set([...viewers].filter((s) => all.has(s) && !bought.has(s)));
  }

  /**
   * Evaluates a rule over every shopper in the universe, or only over `candidates` (an incremental update:
   * the answer for each candidate is the same as a full evaluation's). Per-subject lookups are cached for one
   * evaluation.
   */
  async function evaluate(rule: SegmentRule, candidates?: readonly string[]): Promise<Set<string>> {
    const all = await universe(candidates);
    const restricted = candidates !== undefined;
    const linked = new Map<string, string[]>();
    const idsOf = async (s: string) => {
      let ids = linked.get(s);
      if (!ids) linked.set(s, (ids = await deps.audience.linked(s)));
      return ids;
    };
    const personalised = new Map<string, boolean>();
    const isPersonalised = async (s: string) => {
      let p = personalised.get(s);
      if (p === undefined) personalised.set(s, (p = await deps.audience.isPersonalised(await idsOf(s))));
      return p;
    };
    const profiles = new Map<string, { traits: Record<string, unknown>; interests: string[] }>();
    const profileOf = async (s: string) => {
      let p = profiles.get(s);
      if (!p) profiles.set(s, (p = await deps.audience.profileOf(await idsOf(s))));
      return p;
    };
    const filter = async (pred: (s: string) => Promise<boolean>) => {
      const out = new Set<string>();
      for (const s of all) if (await pred(s)) out.add(s);
      return out;
    };
    const walk = async (r: SegmentRule): Promise<Set<string>> => {
      if ('all' in r) {
        let acc: Set<string> | null = null;
        for (const c of r.all) {
          const part: Set<string> = await walk(c);
          if (acc === null) acc = part;
          else {
            const next = new Set<string>();
            for (const s of acc) if (part.has(s)) next.add(s);
            acc = next;
          }
        }
        return acc ?? new Set<string>();
      }
      if ('any' in r) {
        const acc = new Set<string>();
        for (const c of r.any) for (const s of await walk(c)) acc.add(s);
        return acc;
      }
      if ('not' in r) {
        const inner = await walk(r.not);
        return new Set([...all].filter((s) => !inner.has(s)));
      }
      if ('trait' in r)
        return filter(
          async (s) =>
            (await isPersonalised(s)) && compare(pathOf((await profileOf(s)).traits, r.trait), r.op, r.value),
        );
      if ('interest' in r) {
        const tag = r.interest.toLowerCase();
        return filter(async (s) => (await isPersonalised(s)) && (await profileOf(s)).interests.includes(tag));
      }
      if ('event' in r) return eventCount(r, all, restricted);
      if ('viewedNotBought' in r) return viewedNotBought(r.viewedNotBought, all, restricted);
      const at = now();
      return filter(
        async (s) => (await deps.audience.consentAt(await idsOf(s), r.consent, at)) === r.granted,
      );
    };
    const members = await walk(rule);
    if (!usesProfile(rule)) return members;
    const out = new Set<string>();
    for (const s of members) if (await isPersonalised(s)) out.add(s);
    return out;
  }

  async function get(idOrKey: string): Promise<Segment> {
    const row = await db
      .selectFrom('mkt_segments')
      .selectAll()
      .where((w) => w.or([w('id', '=', idOrKey), w('key', '=', idOrKey)]))
      .executeTakeFirst();
    if (!row) throw new AppError('not_found', `No segment "${idOrKey}". List them with GET /v1/segments.`);
    return toSegment(row);
  }

  /**
   * Membership writes are serialised in this process: a full refresh that evaluated before an incremental
   * update must not overwrite what the update wrote after it.
   */
  let writing: Promise<unknown> = Promise.resolve();
  const serialised = <T>(work: () => Promise<T>): Promise<T> => {
    const run = writing.then(work, work);
    writing = run.catch(() => undefined);
    return run;
  };

  /** Sets a segment's stored size to its member count, after members were added or removed one by one. */
  async function storeCountedSize(q: typeof db, segmentId: string): Promise<void> {
    const n = await q
      .selectFrom('mkt_segment_members')
      .select((e) => e.fn.countAll<number | string>().as('n'))
      .where('segment_id', '=', segmentId)
      .executeTakeFirst();
    await q
      .updateTable('mkt_segments')
      .set({ size: Number(n?.n ?? 0) })
      .where('id', '=', segmentId)
      .execute();
  }

  /** Replaces the stored membership with a fresh evaluation (one transaction: readers never see half). */
  async function refreshNow(seg: Segment): Promise<{ size: number; added: number; removed: number }> {
    const members = await evaluate(seg.rule);
    const at = now();
    return deps.state.transaction(async (trx) => {
      const t = trx as unknown as typeof db;
      const current = new Set(
        (
          await t
            .selectFrom('mkt_segment_members')
            .select('subject_id')
            .where('segment_id', '=', seg.id)
            .execute()
        ).map((r) => r.subject_id),
      );
      const gone = [...current].filter((s) => !members.has(s));
      const fresh = [...members].filter((s) => !current.has(s));
      for (let i = 0; i < gone.length; i += CHUNK)
        await t
          .deleteFrom('mkt_segment_members')
          .where('segment_id', '=', seg.id)
          .where('subject_id', 'in', gone.slice(i, i + CHUNK))
          .execute();
      for (let i = 0; i < fresh.length; i += CHUNK)
        await t
          .insertInto('mkt_segment_members')
          .values(fresh.slice(i, i + CHUNK).map((s) => ({ segment_id: seg.id, subject_id: s, added_at: at })))
          .execute();
      await t
        .updateTable('mkt_segments')
        .set({ size: members.size, refreshed_at: at })
        .where('id', '=', seg.id)
        .execute();
      return { size: members.size, added: fresh.length, removed: gone.length };
    });
  }

  async function refresh(idOrKey: string): Promise<{ size: number; added: number; removed: number }> {
    const seg = await get(idOrKey);
    return serialised(() => refreshNow(seg));
  }

  /**
   * Re-evaluates every segment for these subjects only (their events, traits or consent changed): each one
   * enters or leaves as a full refresh would put it, and the stored size follows.
   */
  async function refreshSubjects(subjectIds: readonly string[]): Promise<{ added: number; removed: number }> {
    const ids = [...new Set(subjectIds)];
    if (ids.length === 0) return { added: 0, removed: 0 };
    return serialised(async () => {
      const segs = (await db.selectFrom('mkt_segments').selectAll().execute()).map(toSegment);
      let added = 0;
      let removed = 0;
      for (const seg of segs) {
        const members = await evaluate(seg.rule, ids);
        const at = now();
        const r = await deps.state.transaction(async (trx) => {
          const t = trx as unknown as typeof db;
          let a = 0;
          let d = 0;
          for (const chunk of chunksOf(ids)) {
            const slice = chunk ?? [];
            const current = new Set(
              (
                await t
                  .selectFrom('mkt_segment_members')
                  .select('subject_id')
                  .where('segment_id', '=', seg.id)
                  .where('subject_id', 'in', slice)
                  .execute()
              ).map((x) => x.subject_id),
            );
            const gone = slice.filter((s) => current.has(s) && !members.has(s));
            const fresh = slice.filter((s) => !current.has(s) && members.has(s));
            if (gone.length > 0)
              await t
                .deleteFrom('mkt_segment_members')
                .where('segment_id', '=', seg.id)
                .where('subject_id', 'in', gone)
                .execute();
            if (fresh.length > 0)
              await t
                .insertInto('mkt_segment_members')
                .values(fresh.map((s) => ({ segment_id: seg.id, subject_id: s, added_at: at })))
                .onConflict((oc) => oc.columns(['segment_id', 'subject_id']).doNothing())
                .execute();
            a += fresh.length;
            d += gone.length;
          }
          if (a > 0 || d > 0) await storeCountedSize(t, seg.id);
          return { a, d };
        });
        added += r.a;
        removed += r.d;
      }
      return { added, removed };
    });
  }

  // Live membership: subjects noted by the event, trait and consent hooks are re-evaluated in the
  // background, in batches (whatever arrived while the previous batch ran), never on the caller's path.
  const pending = new Set<string>();
  let draining: Promise<void> | null = null;
  const BATCH = 2000;
  async function drain(): Promise<void> {
    while (pending.size > 0) {
      const batch: string[] = [];
      for (const s of pending) {
        batch.push(s);
        pending.delete(s);
        if (batch.length >= BATCH) break;
      }
      try {
        await refreshSubjects(batch);
      } catch (e) {
        // The periodic full refresh repairs whatever a failed batch left stale.
        config.onError?.(e);
      }
    }
  }
  function noteActivity(subjectIds: Iterable<string>): void {
    for (const s of subjectIds) pending.add(s);
    if (draining || pending.size === 0) return;
    draining = (async () => {
      // Let the caller (a commit) finish first; then take everything noted meanwhile as one batch.
      await new Promise((r) => setImmediate(r));
      await drain();
    })().finally(() => {
      draining = null;
      if (pending.size > 0) noteActivity([]);
    });
  }
  /** Resolves once every subject noted so far has been re-evaluated (tests, shutdown). */
  async function settled(): Promise<void> {
    while (draining) await draining;
  }

  const estimateOf = (size: number, profileBased: boolean, privileged: boolean): SizeEstimate =>
    privileged || size === 0 || size >= k
      ? { size, suppressed: false, kAnonymity: privileged ? null : k, profileBased }
      : { size: null, suppressed: true, kAnonymity: k, profileBased };

  return {
    evaluate,
    get,
    refresh,
    refreshSubjects,
    noteActivity,
    settled,

    async create(input: { key: string; name: string; rule: unknown }): Promise<Segment> {
      const parsed = SegmentRuleSchema.safeParse(input.rule);
      if (!parsed.success)
        throw new AppError(
          'invalid_request',
          `The rule is not valid: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'rule'}: ${i.message}`).join('; ')}.`,
        );
      const exists = await db
        .selectFrom('mkt_segments')
        .select('id')
        .where('key', '=', input.key)
        .executeTakeFirst();
      if (exists)
        throw new AppError('conflict', `A segment with key "${input.key}" exists; pick another key.`);
      const id = newId('seg');
      await db
        .insertInto('mkt_segments')
        .values({
          id,
          key: input.key,
          name: input.name,
          rule: JSON.stringify(parsed.data),
          profile_based: usesProfile(parsed.data) ? 1 : 0,
          size: 0,
          created_at: now(),
          refreshed_at: null,
        })
        .execute();
      await refresh(id);
      return get(id);
    },

    async list(): Promise<Segment[]> {
      return (await db.selectFrom('mkt_segments').selectAll().orderBy('created_at').execute()).map(toSegment);
    },

    /** Size of a draft rule without storing it. */
    async estimate(rule: SegmentRule, viewer: { privileged: boolean }): Promise<SizeEstimate> {
      return estimateOf((await evaluate(rule)).size, usesProfile(rule), viewer.privileged);
    },

    async sizeOf(idOrKey: string, viewer: { privileged: boolean }): Promise<SizeEstimate> {
      const seg = await get(idOrKey);
      return estimateOf(seg.size, seg.profileBased, viewer.privileged);
    },

    async members(idOrKey: string): Promise<string[]> {
      const seg = await get(idOrKey);
      return (
        await db
          .selectFrom('mkt_segment_members')
          .select('subject_id')
          .where('segment_id', '=', seg.id)
          .orderBy('subject_id')
          .execute()
      ).map((r) => r.subject_id);
    },

    async refreshAll(): Promise<number> {
      const rows = await db.selectFrom('mkt_segments').select('id').execute();
      for (const r of rows) await serialised(async () => refreshNow(await get(r.id)));
      return rows.length;
    },

    async exportSubjects(ids: readonly string[]) {
      if (ids.length === 0) return [];
      return db
        .selectFrom('mkt_segment_members')
        .selectAll()
        .where('subject_id', 'in', [...ids])
        .execute();
    },

    /**
     * Erasure: after any membership write already under way (which may have read the subject's events
     * before they were deleted), and with the subject dropped from the live queue, so nothing re-adds it.
     */
    async eraseSubjects(ids: readonly string[]): Promise<number> {
      if (ids.length === 0) return 0;
      for (const s of ids) pending.delete(s);
      return serialised(async () => {
        let n = 0;
        // The segments these subjects leave: their stored sizes must not go on counting erased shoppers.
        const touched = new Set<string>();
        for (const chunk of chunksOf(ids)) {
          const slice = chunk ?? [];
          for (const r of await db
            .selectFrom('mkt_segment_members')
            .select('segment_id')
            .distinct()
            .where('subject_id', 'in', slice)
            .execute())
            touched.add(r.segment_id);
          const r = await db
            .deleteFrom('mkt_segment_members')
            .where('subject_id', 'in', slice)
            .executeTakeFirst();
          n += Number(r.numDeletedRows);
        }
        for (const segmentId of touched) await storeCountedSize(db, segmentId);
        return n;
      });
    },
  };
}

export type SegmentsService = ReturnType<typeof createSegmentsService>;
