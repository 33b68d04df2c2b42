/**
 * Data-subject requests and their per-target erasure status, as small functions over the state store.
 * Shared by the privacy module (queue, verification) and the dsar flows (which run the steps).
 */
import type { Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import type { StateStore } from '../../storage/ports.ts';
import type { LegalHold, Subject } from './holder.ts';
import { deadlineFor, type Jurisdiction } from './jurisdictions.ts';
import type { EventPurgeStatus } from './event-purge.ts';
import { privacyDb, type DsarRequestRow, type DsarTargetRow } from './store.ts';

export type DsarKind = 'export' | 'erase';
export type DsarChannel = 'self_service' | 'staff' | 'code' | 'cli';
export type DsarStatus = 'awaiting_verification' | 'verified' | 'processing' | 'completed' | 'rejected';
export type TargetStatus = 'pending' | 'done' | 'failed';

export type DsarRequest = {
  id: string;
  kind: DsarKind;
  jurisdiction: Jurisdiction;
  channel: DsarChannel;
  status: DsarStatus;
  receivedAt: number;
  deadlineAt: number;
  verifiedAt: number | null;
  /** How identity was verified: `shopper_token`, `one_time_code`, `staff_cli`. */
  verifiedBy: string | null;
  approvedBy: string | null;
  completedAt: number | null;
  receipt: ErasureReceipt | null;
  note: string | null;
  /** The language of the request's messages (one-time codes): en, id or zh; null for older requests. */
  locale: string | null;
};

export type ErasureTarget = {
  target: string;
  seq: number;
  status: TargetStatus;
  deleted: number;
  legalHolds: LegalHold[];
  attempts: number;
  lastError: string | null;
};

/** What a completed erasure proves. Holds no subject id: the request id is the reference. */
export type ErasureReceipt = {
  kind: 'candor.erasure-receipt';
  version: 1;
  requestId: string;
  jurisdiction: string;
  receivedAt: number;
  deadlineAt: number;
  completedAt: number;
  targets: { target: string; status: 'done'; deleted: number }[];
  legalHolds: LegalHold[];
  /**
   * The physical purge of the subject's events from the event store's files (their rows are deleted, and
   * invisible to every query, before the receipt is issued): done at `purgedAt`, or due by `purgeBy`.
   */
  eventPurge?: EventPurgeStatus;
  /** Ed25519 public key (SPKI PEM) that verifies `signature` over the canonical JSON of the other fields. */
  publicKey: string;
  signature: string;
};

const n = (v: number | string | bigint | null): number | null => (v === null ? null : Number(v));

function toRequest(r: DsarRequestRow): DsarRequest {
  return {
    id: r.id,
    kind: r.kind as DsarKind,
    jurisdiction: r.jurisdiction as Jurisdiction,
    channel: r.channel as DsarChannel,
    status: r.status as DsarStatus,
    receivedAt: Number(r.received_at),
    deadlineAt: Number(r.deadline_at),
    verifiedAt: n(r.verified_at),
    verifiedBy: r.verified_by,
    approvedBy: r.approved_by,
    completedAt: n(r.completed_at),
    receipt: r.receipt === null ? null : (JSON.parse(r.receipt) as ErasureReceipt),
    note: r.note,
    locale: r.locale,
  };
}

function toTarget(r: DsarTargetRow): ErasureTarget {
  return {
    target: r.target,
    seq: Number(r.seq),
    status: r.status as TargetStatus,
    deleted: Number(r.deleted),
    legalHolds: r.legal_holds === null ? [] : (JSON.parse(r.legal_holds) as LegalHold[]),
    attempts: Number(r.attempts),
    lastError: r.last_error,
  };
}

export type CreateRequestInput = {
  kind: DsarKind;
  jurisdiction: Jurisdiction;
  channel: DsarChannel;
  subject: Subject;
  /** Set when identity is already proven (shopper token, operator at the CLI). */
  verifiedBy?: string;
  /** The language messages about the request are sent in. */
  locale?: string;
};

export type DsarStore = ReturnType<typeof createDsarStore>;

export function createDsarStore(deps: { state: StateStore; clock: Clock }) {
  const db = privacyDb(deps.state);
  const now = () => deps.clock.now().getTime();

  const get = async (id: string): Promise<DsarRequest | null> => {
    const r = await db.selectFrom('dsar_requests').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toRequest(r) : null;
  };

  const require = async (id: string): Promise<DsarRequest> => {
    const r = await get(id);
    if (!r) throw new AppError('not_found', `No privacy request ${id}. Check the id in the privacy queue.`);
    return r;
  };

  return {
    get,
    require,

    async create(input: CreateRequestInput): Promise<DsarRequest> {
      const id = newId('dsar');
      const receivedAt = now();
      const verified = input.verifiedBy !== undefined;
      await deps.state.transaction(async (trx) => {
        const t = trx as typeof db;
        await t
          .insertInto('dsar_requests')
          .values({
            id,
            kind: input.kind,
            jurisdiction: input.jurisdiction,
            channel: input.channel,
            status: verified ? 'verified' : 'awaiting_verification',
            received_at: receivedAt,
            deadline_at: deadlineFor(input.jurisdiction, receivedAt),
            verified_at: verified ? receivedAt : null,
            verified_by: input.verifiedBy ?? null,
            approved_by: null,
            completed_at: null,
            receipt: null,
            note: null,
            locale: input.locale ?? null,
          })
          .execute();
        const ids = new Set([
          ...(input.subject.userId ? [input.subject.userId] : []),
          ...input.subject.subjectIds,
        ]);
        for (const sid of ids) {
          await t
            .insertInto('dsar_request_subjects')
            .values({ request_id: id, subject_id: sid, is_user: sid === input.subject.userId ? 1 : 0 })
            .execute();
        }
      });
      return require(id);
    },

    /** The subject a request is about; empty once the request completed (its subject rows are gone). */
    async subjectOf(requestId: string): Promise<Subject | null> {
      const rows = await db
        .selectFrom('dsar_request_subjects')
        .selectAll()
        .where('request_id', '=', requestId)
        .execute();
      if (rows.length === 0) return null;
      const user = rows.find((r) => Number(r.is_user) === 1)?.subject_id;
      return { ...(user ? { userId: user } : {}), subjectIds: rows.map((r) => r.subject_id) };
    },

    async list(filter: { status?: DsarStatus; limit?: number } = {}): Promise<DsarRequest[]> {
      let q = db
        .selectFrom('dsar_requests')
        .selectAll()
        .orderBy('received_at', 'desc')
        .limit(Math.min(filter.limit ?? 100, 500));
      if (filter.status) q = q.where('status', '=', filter.status);
      return (await q.execute()).map(toRequest);
    },

    async setStatus(
      id: string,
      status: DsarStatus,
      patch: { verifiedBy?: string; approvedBy?: string; note?: string; onlyIf?: DsarStatus } = {},
    ): Promise<void> {
      let q = db
        .updateTable('dsar_requests')
        .set({
          status,
          ...(patch.verifiedBy !== undefined ? { verified_by: patch.verifiedBy, verified_at: now() } : {}),
          ...(patch.approvedBy !== undefined ? { approved_by: patch.approvedBy } : {}),
          ...(patch.note !== undefined ? { note: patch.note } : {}),
        })
        .where('id', '=', id);
      // A change that was decided on an earlier status must not undo one made since (e.g. a rejection).
      if (patch.onlyIf !== undefined) q = q.where('status', '=', patch.onlyIf);
      await q.execute();
    },

    /** Creates the target rows once (idempotent: a resumed erasure keeps the statuses it had). */
    async planTargets(requestId: string, targets: readonly string[]): Promise<void> {
      await deps.state.transaction(async (trx) => {
        const t = trx as typeof db;
        const existing = await t
          .selectFrom('dsar_targets')
          .select('target')
          .where('request_id', '=', requestId)
          .execute();
        const have = new Set(existing.map((e) => e.target));
        let seq = existing.length;
        for (const target of targets) {
          if (have.has(target)) continue;
          await t
            .insertInto('dsar_targets')
            .values({
              request_id: requestId,
              target,
              seq: seq++,
              status: 'pending',
              deleted: 0,
              legal_holds: null,
              attempts: 0,
              last_error: null,
              updated_at: now(),
            })
            .execute();
        }
      });
    },

    async targets(requestId: string): Promise<ErasureTarget[]> {
      const rows = await db
        .selectFrom('dsar_targets')
        .selectAll()
        .where('request_id', '=', requestId)
        .orderBy('seq', 'asc')
        .execute();
      return rows.map(toTarget);
    },

    async markTarget(
      requestId: string,
      target: string,
      outcome: { status: TargetStatus; deleted?: number; legalHolds?: LegalHold[]; error?: string },
    ): Promise<void> {
      const row = await db
        .selectFrom('dsar_targets')
        .select(['attempts'])
        .where('request_id', '=', requestId)
        .where('target', '=', target)
        .executeTakeFirst();
      await db
        .updateTable('dsar_targets')
        .set({
          status: outcome.status,
          attempts: Number(row?.attempts ?? 0) + 1,
          updated_at: now(),
          last_error: outcome.error ?? null,
          ...(outcome.deleted !== undefined ? { deleted: outcome.deleted } : {}),
          ...(outcome.legalHolds !== undefined ? { legal_holds: JSON.stringify(outcome.legalHolds) } : {}),
        })
        .where('request_id', '=', requestId)
        .where('target', '=', target)
        .execute();
    },

    /** Stores the receipt, marks the request completed and forgets which subject it was about, in one transaction. */
    async complete(requestId: string, receipt: ErasureReceipt | null): Promise<void> {
      await deps.state.transaction(async (trx) => {
        const t = trx as typeof db;
        await t
          .updateTable('dsar_requests')
          .set({
            status: 'completed',
            completed_at: receipt?.completedAt ?? now(),
            receipt: receipt === null ? null : JSON.stringify(receipt),
          })
          .where('id', '=', requestId)
          .execute();
        await t.deleteFrom('dsar_request_subjects').where('request_id', '=', requestId).execute();
        await t.deleteFrom('dsar_verifications').where('request_id', '=', requestId).execute();
      });
    },

    /** Requests whose work started and did not finish (resumed at start-up and by the job). */
    async unfinished(): Promise<DsarRequest[]> {
      const rows = await db
        .selectFrom('dsar_requests')
        .selectAll()
        .where('status', '=', 'processing')
        .where('kind', '=', 'erase')
        .execute();
      return rows.map(toRequest);
    },
  };
}
