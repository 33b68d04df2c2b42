/**
 * Erasure as small, idempotent, resumable steps, one per target, each with its status persisted in the
 * state store: the profiles holder first (its data key is destroyed: crypto-shredding), then every other
 * registered holder (including the event store), then the physical purge of the event store (a full
 * rewrite at once on a small shop, else recorded for the scheduled `events.purge` job; the receipt says
 * which) and compaction of the state store, then a signed notice to each registered processor. The signed receipt is issued only when
 * every target is done; a crash at any point leaves pending targets that the next run finishes.
 */
import { sql } from 'kysely';
import type { Clock } from '../../kernel/clock.ts';
import { canonicalJson, publicKeyPem, signDetached, verifyDetached } from '../../kernel/crypto.ts';
import { AppError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { EventStore, StateStore } from '../../storage/ports.ts';
import {
  subjectIdsOf,
  type DsarStore,
  type ErasureReceipt,
  type EventPurges,
  type ErasureStatus,
  type ErasedSubjects,
  type HolderRegistry,
  type LegalHold,
  type Processor,
  type Subject,
} from '../../modules/privacy/index.ts';

export type ErasureFlowDeps = {
  state: StateStore;
  events: EventStore;
  registry: HolderRegistry;
  dsar: DsarStore;
  /** Physical purge of the deleted events: at once on a small shop, else by the `events.purge` job. */
  purges: EventPurges;
  clock: Clock;
  logger: Logger;
  processors(): Promise<Processor[]>;
  /** Records that an erasure notice went to a processor (the share log), without the subject. */
  logShare?(entry: {
    recipient: string;
    purpose: string;
    categories: string[];
    records: number;
    reason: string;
  }): Promise<unknown>;
  /** Sends processor webhooks; the global fetch by default. */
  fetch?: typeof fetch;
  /**
   * Where the subjects are named as erased before any holder runs, so that writes begun before the erasure
   * in any process leave them out or take themselves back (erased-subjects.ts in privacy).
   */
  erased?: Pick<ErasedSubjects, 'record' | 'complete'>;
  /** Called before each target runs (fault-injection tests pause or crash here). */
  beforeTarget?(target: string): Promise<void>;
};

export type ErasureFlowConfig = { signingKey: string; webhookTimeoutMs?: number };

/** Holders that must run first: destroying the data key makes every sealed identifier unreadable at once. */
const FIRST = ['profiles'];
const COMPACT_STATE = 'compact:state';
const COMPACT_EVENTS = 'compact:events';

function receiptPayload(r: Omit<ErasureReceipt, 'signature'>): string {
  return canonicalJson(r);
}

/** Checks a receipt's signature against the public key it names (and, if given, the key expected). */
export function verifyReceipt(receipt: ErasureReceipt, expectedPublicKey?: string): boolean {
  if (expectedPublicKey !== undefined && expectedPublicKey.trim() !== receipt.publicKey.trim()) return false;
  const { signature, ...rest } = receipt;
  return verifyDetached(receipt.publicKey, receiptPayload(rest), signature);
}

export function createErasureFlow(deps: ErasureFlowDeps, config: ErasureFlowConfig) {
  const publicKey = publicKeyPem(config.signingKey);
  const doFetch = deps.fetch ?? fetch;

  const holderOrder = () => {
    const names = deps.registry.list().map((h) => h.describe().name);
    return [...FIRST.filter((n) => names.includes(n)), ...names.filter((n) => !FIRST.includes(n))];
  };

  /** SQLite keeps deleted cells in free pages and the WAL unless told otherwise. */
  const prepareStateStore = async () => {
    if (deps.state.dialect === 'sqlite') await sql`pragma secure_delete = on`.execute(deps.state.db);
  };

  const compactState = async () => {
    if (deps.state.dialect === 'sqlite') {
      await sql`pragma wal_checkpoint(TRUNCATE)`.execute(deps.state.db);
    }
    // PostgreSQL: dead tuples are reclaimed by (auto)vacuum; the rows are no longer visible to any query.
  };

  const notifyProcessor = async (p: Processor, requestId: string, subject: Subject) => {
    if (!p.webhookUrl) return;
    const body = JSON.stringify({
      type: 'candor.erasure_request',
      requestId,
      subjectIds: subjectIdsOf(subject),
      issuedAt: deps.clock.now().getTime(),
    });
    const res = await doFetch(p.webhookUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'candor-signature': signDetached(config.signingKey, body),
      },
      body,
      signal: AbortSignal.timeout(config.webhookTimeoutMs ?? 10_000),
    });
    if (!res.ok) throw new Error(`processor ${p.name} answered ${res.status}`);
    await deps.logShare?.({
      recipient: p.name,
      purpose: 'erasure_notice',
      categories: ['pseudonyms'],
      records: 1,
      reason: `erasure request ${requestId}`,
    });
  };

  const status = async (requestId: string): Promise<ErasureStatus> => {
    const request = await deps.dsar.require(requestId);
    return {
      requestId,
      status: request.status === 'completed' ? 'completed' : 'processing',
      targets: await deps.dsar.targets(requestId),
      receipt: request.receipt,
    };
  };

  const runTarget = async (
    target: string,
    requestId: string,
    subject: Subject,
  ): Promise<{ deleted: number; legalHolds: LegalHold[] }> => {
    await deps.beforeTarget?.(target);
    if (target.startsWith('holder:')) {
      const holder = deps.registry.get(target.slice('holder:'.length));
      if (!holder) throw new AppError('internal', `Holder ${target} is no longer registered.`);
      const out = await holder.erase(subject);
      return { deleted: out.deleted, legalHolds: out.legalHolds ?? [] };
    }
    if (target === COMPACT_EVENTS) {
      await deps.purges.afterErasure(requestId);
      return { deleted: 0, legalHolds: [] };
    }
    if (target === COMPACT_STATE) {
      await compactState();
      return { deleted: 0, legalHolds: [] };
    }
    if (target.startsWith('processor:')) {
      const name = target.slice('processor:'.length);
      const p = (await deps.processors()).find((x) => x.name === name);
      if (p) await notifyProcessor(p, requestId, subject);
      return { deleted: 0, legalHolds: [] };
    }
    throw new AppError('internal', `Unknown erasure target ${target}.`);
  };

  return {
    status,

    /** Plans (once) and runs every pending target of a verified erasure request. Safe to call again at any time. */
    async erase(requestId: string): Promise<ErasureStatus> {
      const request = await deps.dsar.require(requestId);
      if (request.status === 'completed') return status(requestId);
      if (request.kind !== 'erase')
        throw new AppError('invalid_request', `Request ${requestId} is not an erasure.`);
      if (request.verifiedAt === null)
        throw new AppError('precondition_failed', `Request ${requestId} is not verified.`);
      const subject = await deps.dsar.subjectOf(requestId);
      if (!subject)
        throw new AppError('internal', `Request ${requestId} lost its subject before completing.`);
      if (request.status !== 'processing') await deps.dsar.setStatus(requestId, 'processing');

      const processors = (await deps.processors()).filter((p) => p.active && p.webhookUrl);
      await deps.dsar.planTargets(requestId, [
        ...holderOrder().map((n) => `holder:${n}`),
        COMPACT_EVENTS,
        COMPACT_STATE,
        ...processors.map((p) => `processor:${p.name}`),
      ]);
      await prepareStateStore();
      // On a resumed run too: the memory then lasts from the holders' latest pass.
      await deps.erased?.record(subjectIdsOf(subject));

      for (const t of await deps.dsar.targets(requestId)) {
        if (t.status === 'done') continue;
        try {
          const out = await runTarget(t.target, requestId, subject);
          await deps.dsar.markTarget(requestId, t.target, {
            status: 'done',
            deleted: out.deleted,
            legalHolds: out.legalHolds,
          });
        } catch (e) {
          const message = e instanceof Error ? e.message : String(e);
          deps.logger.warn(
            { requestId, target: t.target, error: message },
            'erasure target failed; it will be retried',
          );
          await deps.dsar.markTarget(requestId, t.target, { status: 'failed', error: message.slice(0, 500) });
        }
      }

      const targets = await deps.dsar.targets(requestId);
      // Every holder has run: what is prepared from now on was judged against what the erasure left. The
      // purge and the processors' notices may still be retried (a processor down for a day); nothing they
      // do writes the subject's data, so writers need not keep asking about them meanwhile.
      if (targets.filter((t) => t.target.startsWith('holder:')).every((t) => t.status === 'done'))
        await deps.erased?.complete(subjectIdsOf(subject));
      if (targets.some((t) => t.status !== 'done')) return status(requestId);

      const eventPurge = await deps.purges.status(requestId);
      const unsigned: Omit<ErasureReceipt, 'signature'> = {
        kind: 'candor.erasure-receipt',
        version: 1,
        requestId,
        jurisdiction: request.jurisdiction,
        receivedAt: request.receivedAt,
        deadlineAt: request.deadlineAt,
        completedAt: deps.clock.now().getTime(),
        targets: targets.map((t) => ({ target: t.target, status: 'done' as const, deleted: t.deleted })),
        legalHolds: targets.flatMap((t) => t.legalHolds),
        ...(eventPurge ? { eventPurge } : {}),
        publicKey,
      };
      const receipt: ErasureReceipt = {
        ...unsigned,
        signature: signDetached(config.signingKey, receiptPayload(unsigned)),
      };
      await deps.dsar.complete(requestId, receipt);
      // The request's own subject rows went in `complete`; push that deletion out of the WAL too.
      await compactState();
      return status(requestId);
    },
  };
}

export type ErasureFlow = ReturnType<typeof createErasureFlow>;
