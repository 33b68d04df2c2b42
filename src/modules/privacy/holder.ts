/**
 * The contract every module that stores data about a shopper implements, and the registry export and
 * erasure walk. A holder describes its tables and columns so a test can prove that every column holding
 * a subject id or personal data in every store is covered by some holder.
 */
import { AppError } from '../../kernel/errors.ts';

/** A person: every pseudonym linked to them (customer pseudonym first, then device pseudonyms). */
export type Subject = {
  /** The customer pseudonym, when the person is known. */
  userId?: string;
  subjectIds: string[];
};

export type StoreName = 'state' | 'events';

/** Data classes with their own retention (DESIGN §4, issue 4 "Retention"). */
export type DataCategory =
  | 'identifiers'
  | 'profile'
  | 'traits'
  | 'consent'
  | 'events'
  | 'orders'
  | 'reviews'
  | 'chat_transcripts'
  | 'segments'
  | 'recommendations'
  | 'experiments'
  | 'marketing'
  | 'loyalty'
  | 'privacy_requests'
  | 'security'
  | 'quarantine';

export type TableCoverage = {
  store: StoreName;
  table: string;
  /** Columns holding a subject pseudonym (rows are found and erased by them). */
  subjectColumns: string[];
  /** Columns holding personal data (encrypted or not) besides the subject id. */
  personalColumns?: string[];
  category: DataCategory;
  /** Why the data is processed, in plain language. */
  purpose: string;
  /** How long rows are kept, in plain language (e.g. "until erasure", "13 months"). */
  retention: string;
};

/** A decision made by automated means about the subject (GDPR Art. 15(1)(h), 22). */
export type AutomatedDecision = { name: string; description: string; effect: string };

export type HolderDescription = {
  /** Unique holder name, usually the module name (`profiles`, `consent`, …). */
  name: string;
  /** What the holder keeps about a shopper, in plain language. */
  summary: string;
  tables: TableCoverage[];
  automatedDecisions?: AutomatedDecision[];
  /** Where the data comes from (the shopper, the shop's backend, derived from events, …). */
  sources?: string[];
};

/** One section of an export bundle: rows per table (plain values, decrypted where the holder can). */
export type HolderExport = {
  tables: Record<string, Record<string, unknown>[]>;
  /** Facts about the data that are not rows (e.g. "3 interest tags were deleted by you"). */
  notes?: string[];
};

/** Data kept despite an erasure request because a law requires it (e.g. orders for tax). */
export type LegalHold = {
  holder: string;
  what: string;
  why: string;
  /** Epoch ms the data will be deleted, or null when the period has not started yet. */
  until: number | null;
};

export type EraseOutcome = { deleted: number; legalHolds?: LegalHold[] };

export type PersonalDataHolder = {
  describe(): HolderDescription;
  /** Everything the holder has about the subject. */
  export(subject: Subject): Promise<HolderExport>;
  /** Removes the subject's data. Must be idempotent: a second call after success deletes nothing and succeeds. */
  erase(subject: Subject): Promise<EraseOutcome>;
  /**
   * Deletes this holder's rows of a retention class (chat transcripts, quarantine, …) older than `beforeTs`;
   * returns how many went. Called by the retention job for every class the events store does not cover.
   */
  purgeExpired?(dataClass: string, beforeTs: number): Promise<number>;
};

export type HolderRegistry = {
  register(holder: PersonalDataHolder): void;
  /** Holders in registration order (erasure order). */
  list(): readonly PersonalDataHolder[];
  get(name: string): PersonalDataHolder | undefined;
  /** Every table/column the holders cover. */
  coverage(): readonly (TableCoverage & { holder: string })[];
  /**
   * Declares a table (or one column of it) that looks personal by name but holds no shopper data, with
   * the reason (e.g. staff accounts). The coverage check accepts it and prints the reason.
   */
  exempt(exemption: CoverageExemption): void;
  exemptions(): readonly CoverageExemption[];
};

export type CoverageExemption = { store: StoreName; table: string; column?: string; reason: string };

const NAME = /^[a-z][a-z0-9_-]{0,63}$/;

export function createHolderRegistry(): HolderRegistry {
  const holders = new Map<string, PersonalDataHolder>();
  const exempted: CoverageExemption[] = [];
  return {
    exempt(e) {
      if (!e.reason.trim()) throw new AppError('config_invalid', `Exempting ${e.table} needs a reason.`);
      exempted.push(e);
    },
    exemptions: () => [...exempted],
    register(holder) {
      const { name } = holder.describe();
      if (!NAME.test(name)) {
        throw new AppError(
          'config_invalid',
          `Holder name '${name}' must be lower-case letters, digits, _ or -.`,
        );
      }
      if (holders.has(name))
        throw new AppError('config_invalid', `Two personal-data holders are named ${name}.`);
      holders.set(name, holder);
    },
    list: () => [...holders.values()],
    get: (name) => holders.get(name),
    coverage: () =>
      [...holders.values()].flatMap((h) => {
        const d = h.describe();
        return d.tables.map((t) => ({ ...t, holder: d.name }));
      }),
  };
}

/** The subject ids, de-duplicated, never empty strings. */
export function subjectIdsOf(subject: Subject): string[] {
  const ids = new Set<string>();
  if (subject.userId) ids.add(subject.userId);
  for (const id of subject.subjectIds) if (id) ids.add(id);
  return [...ids];
}
