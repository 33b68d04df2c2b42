/**
 * Pure consent-ledger logic: the state of a purpose is derived from the append-only list of decisions,
 * never stored as mutable state. A decision names only the purposes it decides; a purpose it does not
 * mention keeps whatever an earlier decision said.
 */
import { GPC_PURPOSES, LEGAL_BASIS, PURPOSES, type ConsentMethod, type Purpose } from './purposes.ts';

export type ConsentRecord = {
  consentId: string;
  /** Every subject pseudonym the decision applies to (the customer and/or the device). */
  subjectIds: readonly string[];
  purposes: Partial<Record<Purpose, boolean>>;
  noticeVersion: string | null;
  noticeHash: string | null;
  method: ConsentMethod;
  locale: string | null;
  /** The source (write key) or surface the decision came through. */
  channel: string | null;
  /** When the decision took effect, epoch ms (server time; clients cannot back-date consent). */
  decidedAt: number;
  /** The subject's previous decision, if any. */
  supersedes: string | null;
};

export type PurposeState = {
  granted: boolean;
  /** The ledger record that decided this state; null when nothing was ever decided (or for `necessary`). */
  consentId: string | null;
  decidedAt: number | null;
  method: ConsentMethod | null;
};

const NOT_DECIDED: PurposeState = { granted: false, consentId: null, decidedAt: null, method: null };

/** Ledger order: decision time, then the time-ordered id (uuid v7) for decisions in the same millisecond. */
export function compareRecords(a: ConsentRecord, b: ConsentRecord): number {
  if (a.decidedAt !== b.decidedAt) return a.decidedAt - b.decidedAt;
  return a.consentId < b.consentId ? -1 : a.consentId > b.consentId ? 1 : 0;
}

/** Merges the records of several linked subjects into one ordered ledger without duplicates. */
export function mergeLedgers(ledgers: readonly (readonly ConsentRecord[])[]): ConsentRecord[] {
  const byId = new Map<string, ConsentRecord>();
  for (const ledger of ledgers) for (const r of ledger) byId.set(r.consentId, r);
  return [...byId.values()].sort(compareRecords);
}

/**
 * State of `purpose` at time `ts` given a ledger sorted by `compareRecords`: the latest decision made at
 * or before `ts` that mentions the purpose. `necessary` needs no consent (its basis is contract).
 */
export function stateAt(ledger: readonly ConsentRecord[], purpose: Purpose, ts: number): PurposeState {
  if (LEGAL_BASIS[purpose] !== 'consent')
    return { granted: true, consentId: null, decidedAt: null, method: null };
  for (let i = ledger.length - 1; i >= 0; i--) {
    const r = ledger[i]!;
    if (r.decidedAt > ts) continue;
    const v = r.purposes[purpose];
    if (v === undefined) continue;
    return { granted: v, consentId: r.consentId, decidedAt: r.decidedAt, method: r.method };
  }
  return NOT_DECIDED;
}

/** The current state of every purpose. */
export function currentState(ledger: readonly ConsentRecord[]): Record<Purpose, PurposeState> {
  const out = {} as Record<Purpose, PurposeState>;
  for (const p of PURPOSES) out[p] = stateAt(ledger, p, Number.POSITIVE_INFINITY);
  return out;
}

/**
 * Which purposes a Global Privacy Control signal must record an opt-out for now. GPC opts out of
 * `advertising` and `sale`, except that an explicit choice the shopper made after GPC was first
 * recorded wins (the browser keeps sending the signal, so without this rule a later "yes" could never
 * stick). Nothing is recorded when the purpose is already refused, so repeated signals do not grow the ledger.
 */
export function gpcPurposesToRecord(ledger: readonly ConsentRecord[]): Purpose[] {
  const firstGpc = ledger.find((r) => r.method === 'gpc')?.decidedAt;
  const out: Purpose[] = [];
  for (const p of GPC_PURPOSES) {
    const current = stateAt(ledger, p, Number.POSITIVE_INFINITY);
    if (current.consentId !== null && !current.granted) continue;
    const explicitLater =
      firstGpc !== undefined &&
      ledger.some((r) => r.method !== 'gpc' && r.decidedAt >= firstGpc && r.purposes[p] !== undefined);
    if (explicitLater) continue;
    out.push(p);
  }
  return out;
}
