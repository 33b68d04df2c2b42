/**
 * The identity graph: device pseudonyms linked to a customer pseudonym. An identify/login links them only
 * when the subject's consent allows `personalization` (joining browsing history to a known person is
 * profiling, so it rides on the purpose that profiling needs). Staff merges and splits are explicit,
 * reversible (a split link stays recorded and a merge restores it) and audited. An automatic identify never
 * re-links what staff split.
 */
import type { Kysely } from 'kysely';
import type { Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';
import type { StateStore } from '../../storage/ports.ts';
import type { Subject } from '../privacy/index.ts';
import { profilesDb } from './store.ts';
import type { VaultAudit } from './vault.service.ts';

export const LINK_PURPOSE = 'personalization';

/** One step of a caller's state-store transaction; resolves to whether a new link was made. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the port's transaction handle is untyped
export type IdentityWrite = (trx: Kysely<any>) => Promise<boolean>;

export type ProfilesConsent = {
  /** True when the purpose is granted now for any of these subject pseudonyms. */
  granted(subjectIds: readonly string[], purpose: string): Promise<boolean>;
};

export function createIdentityService(deps: {
  state: StateStore;
  clock: Clock;
  consent: ProfilesConsent;
  audit: VaultAudit;
  keyIdOf(subjectId: string): Promise<string | null>;
}) {
  const db = profilesDb(deps.state);
  const now = () => deps.clock.now().getTime();

  const setLink = async (
    anonymousId: string,
    userId: string,
    state: 'linked' | 'split',
    method: string,
    tx: typeof db = db,
  ): Promise<void> => {
    const ts = now();
    await tx
      .insertInto('identity_links')
      .values({ anonymous_id: anonymousId, user_id: userId, state, method, linked_at: ts, updated_at: ts })
      .onConflict((oc) =>
        oc.columns(['anonymous_id', 'user_id']).doUpdateSet({ state, method, updated_at: ts }),
      )
      .execute();
  };

  /**
   * An identify/alias link in two halves: the consent check now (it reads the ledger, outside any
   * transaction), and the writes as one step of the caller's transaction — ingestion runs every link of a
   * group commit in the one transaction that also records the group's counters. Null when nothing is to be
   * linked (no device, or no `personalization` consent). The step reports whether it made a new link.
   */
  const prepareLink = async (input: {
    userId: string;
    anonymousId: string | null;
    previousIds?: readonly string[];
  }): Promise<IdentityWrite | null> => {
    const devices = [
      ...new Set(
        [input.anonymousId, ...(input.previousIds ?? [])].filter(
          (x): x is string => !!x && x !== input.userId,
        ),
      ),
    ];
    if (devices.length === 0) return null;
    if (!(await deps.consent.granted([input.userId, ...devices], LINK_PURPOSE))) return null;
    return async (trx) => {
      const tx = trx as typeof db;
      let linked = false;
      for (const d of devices) {
        const existing = await tx
          .selectFrom('identity_links')
          .select('state')
          .where('anonymous_id', '=', d)
          .where('user_id', '=', input.userId)
          .executeTakeFirst();
        if (existing) continue; // already linked, or split by staff: an automatic identify never undoes a split
        await setLink(d, input.userId, 'linked', 'identify', tx);
        linked = true;
      }
      return linked;
    };
  };

  const auditTarget = async (userId: string) => {
    const keyId = await deps.keyIdOf(userId);
    return keyId ? `subject-key:${keyId}` : null;
  };

  return {
    prepareLink,

    /** An identify/alias link in its own transaction. Returns whether a link was made. */
    async link(input: {
      userId: string;
      anonymousId: string | null;
      previousIds?: readonly string[];
    }): Promise<boolean> {
      const write = await prepareLink(input);
      return write ? deps.state.transaction(write) : false;
    },

    async merge(anonymousId: string, userId: string, staffId: string, reason: string): Promise<void> {
      if (anonymousId === userId)
        throw new AppError('invalid_request', 'A subject cannot be merged with itself.');
      await setLink(anonymousId, userId, 'linked', 'manual');
      await deps.audit.record({
        actor: `staff:${staffId}`,
        action: 'profiles.merge',
        target: await auditTarget(userId),
        purpose: reason.slice(0, 100),
        outcome: 'success',
      });
    },

    async split(anonymousId: string, userId: string, staffId: string, reason: string): Promise<void> {
      const existing = await db
        .selectFrom('identity_links')
        .select('state')
        .where('anonymous_id', '=', anonymousId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      if (!existing) throw new AppError('not_found', 'These two subjects are not linked.');
      await setLink(anonymousId, userId, 'split', 'manual');
      await deps.audit.record({
        actor: `staff:${staffId}`,
        action: 'profiles.split',
        target: await auditTarget(userId),
        purpose: reason.slice(0, 100),
        outcome: 'success',
      });
    },

    /** Every pseudonym of the person behind `subjectId`. `isUser` says the id is a customer pseudonym. */
    async resolve(subjectId: string, isUser = false): Promise<Subject> {
      let userId: string | undefined = isUser ? subjectId : undefined;
      if (!userId) {
        const asUser = await db
          .selectFrom('identity_links')
          .select('user_id')
          .where('user_id', '=', subjectId)
          .limit(1)
          .executeTakeFirst();
        if (asUser) userId = subjectId;
        else {
          const owner = await db
            .selectFrom('identity_links')
            .select('user_id')
            .where('anonymous_id', '=', subjectId)
            .where('state', '=', 'linked')
            .limit(1)
            .executeTakeFirst();
          userId = owner?.user_id;
        }
      }
      if (!userId) return { subjectIds: [subjectId] };
      const devices = await db
        .selectFrom('identity_links')
        .select('anonymous_id')
        .where('user_id', '=', userId)
        .where('state', '=', 'linked')
        .execute();
      const ids = new Set([userId, ...devices.map((d) => d.anonymous_id)]);
      if (!isUser) ids.add(subjectId);
      return { userId, subjectIds: [...ids] };
    },

    async linksOf(subjectIds: readonly string[]) {
      if (subjectIds.length === 0) return [];
      const rows = await db
        .selectFrom('identity_links')
        .selectAll()
        .where((eb) =>
          eb.or([eb('user_id', 'in', [...subjectIds]), eb('anonymous_id', 'in', [...subjectIds])]),
        )
        .execute();
      return rows.map((r) => ({
        anonymousId: r.anonymous_id,
        userId: r.user_id,
        state: r.state,
        method: r.method,
        linkedAt: Number(r.linked_at),
        updatedAt: Number(r.updated_at),
      }));
    },

    async erase(subjectIds: readonly string[]): Promise<number> {
      if (subjectIds.length === 0) return 0;
      const r = await db
        .deleteFrom('identity_links')
        .where((eb) =>
          eb.or([eb('user_id', 'in', [...subjectIds]), eb('anonymous_id', 'in', [...subjectIds])]),
        )
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}

export type IdentityService = ReturnType<typeof createIdentityService>;
