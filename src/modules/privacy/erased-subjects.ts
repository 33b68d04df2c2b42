/**
 * Subjects erased lately, known to every process through the state store. Work that began before an
 * erasure and writes after it — a second of recommendation impressions buffered in another API process, a
 * page of order events a worker read just before — must not bring the subject's data back once the holders
 * deleted it. A process's own memory of its erasures (kernel/expiring-set.ts) cannot see an erasure that
 * ran in another process.
 *
 * The erasure records its subjects here before any holder runs. A writer of such data leaves out subjects
 * named here, and after its write has committed asks again about the subjects it wrote, erasing what it
 * wrote for any now named. That closes the race: the record commits before a holder's delete begins, so
 * either the delete sees the write, or the write committed after the record, and the question asked after
 * the write sees the record.
 *
 * Stored is a digest of each pseudonym, never the pseudonym (an erased subject's pseudonym must appear
 * nowhere, issue 4's residual-data test), for ERASED_MEMORY_MS; then the row goes.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../kernel/clock.ts';
import type { StateStore } from '../../storage/ports.ts';
import { privacyDb } from './store.ts';

/** Far longer than any buffered write waits (impressions: a second; an order catch-up page: seconds). */
export const ERASED_MEMORY_MS = 15 * 60_000;
const PRUNE_EVERY_MS = 60_000;
const CHUNK = 500;

export type ErasedSubjects = {
  /** Names the subjects as erased from now on (for ERASED_MEMORY_MS). */
  record(subjectIds: readonly string[]): Promise<void>;
  /** Those of `subjectIds` erased within ERASED_MEMORY_MS. */
  among(subjectIds: Iterable<string | null>): Promise<Set<string>>;
};

const digestOf = (subjectId: string) =>
  createHash('sha256').update(`candor-erased\u0000${subjectId}`).digest('base64url');

export function createErasedSubjects(deps: { state: StateStore; clock: Clock }): ErasedSubjects {
  const db = privacyDb(deps.state);
  const now = () => deps.clock.now().getTime();
  let prunedAt = -Infinity;
  const prune = async (t: number) => {
    prunedAt = t;
    await db
      .deleteFrom('privacy_erased')
      .where('erased_at', '<', t - ERASED_MEMORY_MS)
      .execute();
  };
  return {
    async record(subjectIds) {
      const t = now();
      await prune(t);
      const digests = [...new Set(subjectIds.map(digestOf))];
      for (let i = 0; i < digests.length; i += CHUNK) {
        await db
          .insertInto('privacy_erased')
          .values(digests.slice(i, i + CHUNK).map((d) => ({ erased_key: d, erased_at: t })))
          .onConflict((oc) =>
            oc.column('erased_key').doUpdateSet((eb) => ({ erased_at: eb.ref('excluded.erased_at') })),
          )
          .execute();
      }
    },
    async among(subjectIds) {
      const bySubject = new Map<string, string>();
      for (const s of subjectIds) if (s !== null && !bySubject.has(s)) bySubject.set(s, digestOf(s));
      const out = new Set<string>();
      if (bySubject.size === 0) return out;
      const t = now();
      if (t - prunedAt >= PRUNE_EVERY_MS) await prune(t);
      const subjectOf = new Map([...bySubject].map(([s, d]) => [d, s]));
      const digests = [...subjectOf.keys()];
      for (let i = 0; i < digests.length; i += CHUNK) {
        const rows = await db
          .selectFrom('privacy_erased')
          .select('erased_key')
          .where('erased_key', 'in', digests.slice(i, i + CHUNK))
          .where('erased_at', '>=', t - ERASED_MEMORY_MS)
          .execute();
        for (const r of rows) out.add(subjectOf.get(r.erased_key)!);
      }
      return out;
    },
  };
}
