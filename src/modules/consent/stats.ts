/**
 * Consent statistics for staff: opt-in rate per purpose per day or week, the share of deciding shoppers
 * whose browser sent Global Privacy Control, and withdrawals (a purpose turned from granted to refused).
 * Only aggregates leave this file, and every group (a day or week, a purpose within it) counted over fewer
 * than k distinct subjects is suppressed: its numbers are null and the answer says how many were hidden.
 *
 * A subject is a subject pseudonym as the ledger stores it (the first id of a decision). A withdrawal is
 * judged against the subject's previous decision chain (`supersedes`), so it matches what the ledger
 * decides for that shopper, linked device ids included.
 */
import { CONSENT_PURPOSES, type Purpose } from './purposes.ts';

type ConsentPurpose = (typeof CONSENT_PURPOSES)[number];

/** The columns statistics need from one ledger row; no locale, channel or notice text. */
export type StatRecord = {
  consentId: string;
  subjectId: string;
  purposes: Partial<Record<Purpose, boolean>>;
  method: string;
  decidedAt: number;
  supersedes: string | null;
};

export type PurposeFigures = {
  purpose: ConsentPurpose;
  /** Subjects whose last decision on the purpose in the group was a grant / a refusal. */
  granted: number | null;
  refused: number | null;
  optInRate: number | null;
  withdrawals: number | null;
  suppressed: boolean;
};

export type GroupFigures = {
  /** Subjects who made any decision in the group. */
  subjects: number | null;
  gpcSubjects: number | null;
  gpcShare: number | null;
  withdrawals: number | null;
  decisions: number | null;
  purposes: PurposeFigures[];
  suppressed: boolean;
};

export type ConsentStats = {
  from: string;
  to: string;
  period: 'day' | 'week';
  totals: GroupFigures;
  series: (GroupFigures & { start: string })[];
  privacy: { kAnonymity: number; suppressedGroups: number };
};

const DAY_MS = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Start of the UTC day, or of the ISO week (Monday) holding `ms`. */
export function bucketStart(ms: number, period: 'day' | 'week'): number {
  const day = Math.floor(ms / DAY_MS) * DAY_MS;
  if (period === 'day') return day;
  const weekday = (new Date(day).getUTCDay() + 6) % 7;
  return day - weekday * DAY_MS;
}

type Acc = {
  subjects: Set<string>;
  gpc: Set<string>;
  decisions: number;
  withdrawals: number;
  last: Map<ConsentPurpose, Map<string, boolean>>;
  purposeWithdrawals: Map<ConsentPurpose, number>;
};

const newAcc = (): Acc => ({
  subjects: new Set(),
  gpc: new Set(),
  decisions: 0,
  withdrawals: 0,
  last: new Map(CONSENT_PURPOSES.map((p) => [p, new Map<string, boolean>()])),
  purposeWithdrawals: new Map(CONSENT_PURPOSES.map((p) => [p, 0])),
});

function figures(acc: Acc, k: number, hidden: { n: number }): GroupFigures {
  if (acc.subjects.size < k) {
    // An empty group describes nobody, so it is shown as zeros rather than counted as hidden.
    if (acc.subjects.size > 0) hidden.n++;
    const zero = acc.subjects.size === 0 ? 0 : null;
    return {
      subjects: zero,
      gpcSubjects: zero,
      gpcShare: null,
      withdrawals: zero,
      decisions: zero,
      purposes: CONSENT_PURPOSES.map((purpose) => ({
        purpose,
        granted: zero,
        refused: zero,
        optInRate: null,
        withdrawals: zero,
        suppressed: acc.subjects.size > 0,
      })),
      suppressed: acc.subjects.size > 0,
    };
  }
  return {
    subjects: acc.subjects.size,
    gpcSubjects: acc.gpc.size,
    gpcShare: acc.gpc.size / acc.subjects.size,
    withdrawals: acc.withdrawals,
    decisions: acc.decisions,
    purposes: CONSENT_PURPOSES.map((purpose) => {
      const last = acc.last.get(purpose)!;
      let granted = 0;
      for (const v of last.values()) if (v) granted++;
      const deciders = last.size;
      if (deciders > 0 && deciders < k) {
        hidden.n++;
        return {
          purpose,
          granted: null,
          refused: null,
          optInRate: null,
          withdrawals: null,
          suppressed: true,
        };
      }
      return {
        purpose,
        granted,
        refused: deciders - granted,
        optInRate: deciders === 0 ? null : granted / deciders,
        withdrawals: acc.purposeWithdrawals.get(purpose)!,
        suppressed: false,
      };
    }),
    suppressed: false,
  };
}

/**
 * `records`: every ledger row decided before `toMs`, in ledger order (decision time, then id); rows before
 * `fromMs` only feed the decision chains that withdrawals are judged against. `toMs` is exclusive.
 */
export async function computeConsentStats(
  records: AsyncIterable<StatRecord> | Iterable<StatRecord>,
  options: { fromMs: number; toMs: number; period: 'day' | 'week'; kAnonymity: number },
): Promise<ConsentStats> {
  const { fromMs, toMs, period } = options;
  const k = Math.max(1, options.kAnonymity);
  const chain = new Map<string, Partial<Record<Purpose, boolean>>>();
  const total = newAcc();
  const buckets = new Map<number, Acc>();
  for (let b = bucketStart(fromMs, period); b < toMs; b += (period === 'day' ? 1 : 7) * DAY_MS)
    buckets.set(b, newAcc());

  for await (const r of records) {
    if (r.decidedAt >= toMs) break;
    const before = r.supersedes === null ? undefined : chain.get(r.supersedes);
    chain.set(r.consentId, { ...before, ...r.purposes });
    if (r.decidedAt < fromMs) continue;
    const bucket = buckets.get(bucketStart(r.decidedAt, period));
    for (const acc of bucket ? [total, bucket] : [total]) {
      acc.subjects.add(r.subjectId);
      acc.decisions++;
      if (r.method === 'gpc') acc.gpc.add(r.subjectId);
    }
    for (const p of CONSENT_PURPOSES) {
      const v = r.purposes[p];
      if (v === undefined) continue;
      const withdrawn = v === false && before?.[p] === true;
      for (const acc of bucket ? [total, bucket] : [total]) {
        acc.last.get(p)!.set(r.subjectId, v);
        if (withdrawn) {
          acc.withdrawals++;
          acc.purposeWithdrawals.set(p, acc.purposeWithdrawals.get(p)! + 1);
        }
      }
    }
  }

  const hidden = { n: 0 };
  const series = [...buckets.entries()].map(([start, acc]) => ({
    start: isoDay(start),
    ...figures(acc, k, hidden),
  }));
  const totals = figures(total, k, hidden);
  return {
    from: isoDay(fromMs),
    to: isoDay(toMs - 1),
    period,
    totals,
    series,
    privacy: { kAnonymity: k, suppressedGroups: hidden.n },
  };
}
