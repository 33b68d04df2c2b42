/**
 * Subjects erased lately, known to every process through the state store. Work that began before an
 * erasure and writes after it — a request's events and vault writes between the consent gate and the group
 * commit, a second of recommendation impressions buffered in another API process, a page of order events a
 * worker read just before — must not bring the subject's data back once the holders deleted it. A process's
 * own memory of its erasures (kernel/expiring-set.ts) cannot see an erasure that ran in another process.
 *
 * The erasure records its subjects here before any holder runs, and marks them complete when every holder
 * is done. A writer of such data asks, after its write has committed, about the subjects it wrote, and
 * erases what it wrote for any named. That closes the race: the record commits before a holder's delete
 * begins, so either the delete sees the write, or the write committed after the record and the question
 * asked after the write sees the record. Buffered writers (impressions, orders from events) also leave out
 * every subject named here before writing. Ingestion keeps what was prepared after the erasure completed
 * (the consent gate then judged it against the erased ledger: the shopper consented again), so it asks
 * `erasedSince` with the time its request was prepared.
 *
 * Stored is a digest of each pseudonym, never the pseudonym (an erased subject's pseudonym must appear
 * nowhere, issue 4's residual-data test), for ERASED_MEMORY_MS after the erasure completed; then the row goes.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../kernel/clock.ts';
import type { StateStore } from '../../storage/ports.ts';
import { privacyDb } from './store.ts';

/** Far longer than any buffered write waits (impressions: a second; an order catch-up page: seconds). */
export const ERASED_MEMORY_MS = 15 * 60_000;
/**
 * How far the clocks of two processes may disagree: a request prepared up to this long after another
 * process saw an erasure complete still counts as prepared before it (its data is taken back, not kept).
 */
export const CLOCK_SKEW_MS = 5_000;
/** An erasure that never completed (it is resumed by its job) is remembered this long from its start. */
const UNFINISHED_MEMORY_MS = 24 * 3_600_000;
const PRUNE_EVERY_MS = 60_000;
const CHUNK = 500;

export type ErasedSubjects = {
  /** Names the subjects as being erased, from now until ERASED_MEMORY_MS after `complete`. */
  record(subjectIds: readonly string[]): Promise<void>;
  /** The erasure of these subjects is done: every holder has run. */
  complete(subjectIds: readonly string[]): Promise<void>;
  /** Those of `subjectIds` named by an erasure that is running or completed within ERASED_MEMORY_MS. */
  among(subjectIds: Iterable<string | null>): Promise<Set<string>>;
  /**
   * Those of `subjectIds` whose erasure is running, or completed after `preparedAt` (less CLOCK_SKEW_MS):
   * what was prepared for them before the erasure finished must not stay.
   */
  erasedSince(subjectIds: Iterable<string | null>, preparedAt: number): Promise<Set<string>>;
  /** Whether any erasure is running or completed after `preparedAt` (one cheap query: the common answer). */
  anyErasedSince(preparedAt: number): Promise<boolean>;
};

const digestOf = (subjectId: string) =>
  createHash('sha256').update(`candor-erased\u0000${subjectId}`).digest('base64url');

export function createErasedSubjects(deps: { state: StateStore; clock: Clock }): ErasedSubjects {
  const db = privacyDb(deps.state);
  const now = () => deps.clock.now().getTime();
  let prunedAt = -Infinity;
  /**
   * On SQLite one process holds the state store (the embedded default; the CLI talks to it through the
   * admin listener), so every erasure records through this object and `anyErasedSince` — asked after every
   * group commit — is answered from memory: erasures running here, and the latest completion. Marked before
   * the record is written, so by the time an erasure's first delete begins, the answer already says so.
   * Loaded once from the table (an erasure left running by a crash is resumed by its job, which records it
   * again). PostgreSQL serves several processes and is asked each time.
   */
  const local =
    deps.state.dialect === 'sqlite'
      ? { loaded: null as Promise<void> | null, running: new Set<string>(), lastCompletedAt: -Infinity }
      : null;
  const loadLocal = () => {
    if (local === null) return Promise.resolve();
    local.loaded ??= (async () => {
      const rows = await db.selectFrom('privacy_erased').select(['erased_key', 'completed_at']).execute();
      for (const r of rows) {
        if (r.completed_at === null) local.running.add(r.erased_key);
        else local.lastCompletedAt = Math.max(local.lastCompletedAt, Number(r.completed_at));
      }
    })().catch((e: unknown) => {
      // Asked again next time, rather than failing every group commit from now on.
      local.loaded = null;
      throw e;
    });
    return local.loaded;
  };
  const prune = async (t: number) => {
    prunedAt = t;
    await db
      .deleteFrom('privacy_erased')
      .where((eb) =>
        eb.or([
          eb('completed_at', '<', t - ERASED_MEMORY_MS),
          eb.and([eb('completed_at', 'is', null), eb('erased_at', '<', t - UNFINISHED_MEMORY_MS)]),
        ]),
      )
      .execute();
  };
  const maybePrune = async (t: number) => {
    if (t - prunedAt >= PRUNE_EVERY_MS) await prune(t);
  };
  const digests = (subjectIds: readonly string[]) => [...new Set(subjectIds.map(digestOf))];

  /** Subjects whose row is running or completed at or after `completedFrom`. */
  async function named(subjectIds: Iterable<string | null>, completedFrom: number): Promise<Set<string>> {
    const bySubject = new Map<string, string>();
    for (const s of subjectIds) if (s !== null && !bySubject.has(s)) bySubject.set(s, digestOf(s));
    const out = new Set<string>();
    if (bySubject.size === 0) return out;
    await maybePrune(now());
    const subjectOf = new Map([...bySubject].map(([s, d]) => [d, s]));
    const keys = [...subjectOf.keys()];
    for (let i = 0; i < keys.length; i += CHUNK) {
      const rows = await db
        .selectFrom('privacy_erased')
        .select('erased_key')
        .where('erased_key', 'in', keys.slice(i, i + CHUNK))
        .where((eb) => eb.or([eb('completed_at', 'is', null), eb('completed_at', '>=', completedFrom)]))
        .execute();
      for (const r of rows) out.add(subjectOf.get(r.erased_key)!);
    }
    return out;
  }

  return {
    async record(subjectIds) {
      const t = now();
      const keys = digests(subjectIds);
      if (local !== null) {
        await loadLocal();
        for (const k of keys) local.running.add(k);
      }
      await prune(t);
      for (let i = 0; i < keys.length; i += CHUNK) {
        await db
          .insertInto('privacy_erased')
          .values(keys.slice(i, i + CHUNK).map((k) => ({ erased_key: k, erased_at: t, completed_at: null })))
          .onConflict((oc) =>
            oc.column('erased_key').doUpdateSet((eb) => ({
              erased_at: eb.ref('excluded.erased_at'),
              completed_at: null,
            })),
          )
          .execute();
      }
    },
    async complete(subjectIds) {
      const t = now();
      const keys = digests(subjectIds);
      for (let i = 0; i < keys.length; i += CHUNK) {
        await db
          .updateTable('privacy_erased')
          .set({ completed_at: t })
          .where('erased_key', 'in', keys.slice(i, i + CHUNK))
          .execute();
      }
      if (local !== null) {
        for (const k of keys) local.running.delete(k);
        local.lastCompletedAt = Math.max(local.lastCompletedAt, t);
      }
    },
    among: (subjectIds) => named(subjectIds, now() - ERASED_MEMORY_MS),
    erasedSince: (subjectIds, preparedAt) => named(subjectIds, preparedAt - CLOCK_SKEW_MS),
    async anyErasedSince(preparedAt) {
      if (local !== null) {
        await loadLocal();
        return local.running.size > 0 || local.lastCompletedAt >= preparedAt - CLOCK_SKEW_MS;
      }
      const row = await db
        .selectFrom('privacy_erased')
        .select('erased_key')
        .where((eb) =>
          eb.or([eb('completed_at', 'is', null), eb('completed_at', '>=', preparedAt - CLOCK_SKEW_MS)]),
        )
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },
  };
}
