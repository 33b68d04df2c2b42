/**
 * The tamper-evident audit log. Each entry's hash is SHA-256 over the canonical JSON of its fields and
 * the previous entry's hash, so changing, deleting, inserting or reordering any entry breaks the chain
 * from that point on. Periodic checkpoints sign the chain head with the installation's Ed25519 key,
 * which is not stored in the database: rewriting the whole chain (or cutting its tail) is detected too.
 * Entries hold no raw personal data (targets are pseudonyms or internal ids), so erasure never needs
 * to touch the chain.
 */
import type { Clock } from '../../kernel/clock.ts';
import { canonicalJson, publicKeyPem, sha256Hex, signDetached, verifyDetached } from '../../kernel/crypto.ts';
import { AppError, hasCode } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { StateStore } from '../../storage/ports.ts';
import { auditDb, lockChain, type AuditEntryRow } from './store.ts';

export type AuditOutcome = 'success' | 'failure' | 'denied';

/** What a caller records. `target` is a pseudonym or an internal id, never a name, email or IP. */
export type AuditEntryInput = {
  /** Who acted: `staff:<id>`, `key:<id>`, `shopper:<pseudonym>`, `source:<id>`, `system`, `anonymous`. */
  actor: string;
  /** Dotted verb, e.g. `auth.login`, `staff.role_change`, `privacy.erase`. */
  action: string;
  target?: string | null;
  purpose?: string | null;
  outcome: AuditOutcome;
  /** Small, non-personal facts (counts, reasons, role names). */
  details?: Record<string, string | number | boolean | null>;
};

export type AuditEntry = {
  seq: number;
  ts: number;
  actor: string;
  action: string;
  target: string | null;
  purpose: string | null;
  outcome: string;
  details: Record<string, unknown> | null;
  prevHash: string;
  hash: string;
};

export type AuditWriter = { record(entry: AuditEntryInput): Promise<void> };

export type AuditVerifyResult = {
  ok: boolean;
  /** Entries walked. */
  entries: number;
  /** Sequence number of the first entry that does not verify (missing, changed or out of place), else null. */
  firstBroken: number | null;
  reason: string | null;
  checkpoints: number;
};

export type AuditQuery = { afterSeq?: number; limit?: number; action?: string; actor?: string };

export type AuditService = AuditWriter & {
  list(query: AuditQuery): Promise<AuditEntry[]>;
  verify(): Promise<AuditVerifyResult>;
  /** Signs the current chain head (no-op when nothing was appended since the last checkpoint). */
  checkpoint(): Promise<{ seq: number; hash: string } | null>;
};

export type AuditDeps = { state: StateStore; clock: Clock; logger: Logger };
export type AuditConfig = { signingKey: string; checkpointEvery?: number };

export const GENESIS_HASH = '0'.repeat(64);

/** The hash of one entry: SHA-256 over the canonical encoding of every field and the previous hash. */
export function entryHash(e: Omit<AuditEntry, 'hash'>): string {
  return sha256Hex(
    canonicalJson({
      seq: e.seq,
      ts: e.ts,
      actor: e.actor,
      action: e.action,
      target: e.target,
      purpose: e.purpose,
      outcome: e.outcome,
      details: e.details,
      prevHash: e.prevHash,
    }),
  );
}

function checkpointPayload(seq: number, hash: string, ts: number): string {
  return canonicalJson({ kind: 'candor.audit.checkpoint', seq, hash, ts });
}

const EMAIL_LIKE = /[^\s@]+@[^\s@]+\.[^\s@]+/;
const IPV4_LIKE = /\b\d{1,3}(\.\d{1,3}){3}\b/;

/** A cheap last line of defence: the chain is permanent, so obvious direct identifiers never enter it. */
function assertNoPersonalData(entry: AuditEntryInput): void {
  const values = [
    entry.actor,
    entry.action,
    entry.target ?? '',
    entry.purpose ?? '',
    ...Object.values(entry.details ?? {}),
  ];
  for (const v of values) {
    if (typeof v === 'string' && (EMAIL_LIKE.test(v) || IPV4_LIKE.test(v))) {
      throw new AppError(
        'internal',
        `Audit entry for ${entry.action} carries what looks like an email or IP; record a pseudonym instead.`,
      );
    }
  }
}

export function rowToEntry(r: AuditEntryRow): AuditEntry {
  return {
    seq: Number(r.seq),
    ts: Number(r.ts),
    actor: r.actor,
    action: r.action,
    target: r.target,
    purpose: r.purpose,
    outcome: r.outcome,
    details: r.details === null ? null : (JSON.parse(r.details) as Record<string, unknown>),
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

export function createAuditService(deps: AuditDeps, config: AuditConfig): AuditService {
  const db = auditDb(deps.state);
  const every = config.checkpointEvery ?? 100;
  const publicKey = publicKeyPem(config.signingKey);
  // One append at a time inside this process; across processes the store's lock does the same.
  let tail: Promise<unknown> = Promise.resolve();

  const appendOnce = async (input: AuditEntryInput): Promise<void> => {
    await deps.state.transaction(async (anyTrx) => {
      const trx = anyTrx as typeof db;
      await lockChain(deps.state, trx);
      const last = await trx
        .selectFrom('audit_entries')
        .select(['seq', 'hash'])
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      const seq = last ? Number(last.seq) + 1 : 1;
      const base = {
        seq,
        ts: deps.clock.now().getTime(),
        actor: input.actor,
        action: input.action,
        target: input.target ?? null,
        purpose: input.purpose ?? null,
        outcome: input.outcome,
        details: input.details && Object.keys(input.details).length > 0 ? input.details : null,
        prevHash: last ? last.hash : GENESIS_HASH,
      };
      const hash = entryHash(base);
      await trx
        .insertInto('audit_entries')
        .values({
          seq: base.seq,
          ts: base.ts,
          actor: base.actor,
          action: base.action,
          target: base.target,
          purpose: base.purpose,
          outcome: base.outcome,
          details: base.details === null ? null : canonicalJson(base.details),
          prev_hash: base.prevHash,
          hash,
        })
        .execute();
      if (seq % every === 0) {
        await trx
          .insertInto('audit_checkpoints')
          .values({
            seq,
            ts: base.ts,
            hash,
            signature: signDetached(config.signingKey, checkpointPayload(seq, hash, base.ts)),
            public_key: publicKey,
          })
          .execute();
      }
    });
  };

  const record = async (input: AuditEntryInput): Promise<void> => {
    assertNoPersonalData(input);
    const run = tail.then(async () => {
      // A unique-key clash means another process appended between our read and insert without the lock
      // (should not happen); re-reading the head and trying again keeps the chain linear.
      for (let attempt = 0; ; attempt++) {
        try {
          await appendOnce(input);
          return;
        } catch (e) {
          if (attempt >= 4 || hasCode(e, 'internal')) throw e;
          deps.logger.warn({ attempt, action: input.action }, 'audit append retried');
        }
      }
    });
    tail = run.catch(() => undefined);
    await run;
  };

  const list = async (q: AuditQuery): Promise<AuditEntry[]> => {
    let query = db
      .selectFrom('audit_entries')
      .selectAll()
      .orderBy('seq', 'asc')
      .limit(Math.min(Math.max(q.limit ?? 100, 1), 1000));
    if (q.afterSeq !== undefined) query = query.where('seq', '>', q.afterSeq);
    if (q.action !== undefined) query = query.where('action', '=', q.action);
    if (q.actor !== undefined) query = query.where('actor', '=', q.actor);
    return (await query.execute()).map(rowToEntry);
  };

  const verify = async (): Promise<AuditVerifyResult> => {
    const checkpoints = (
      await db.selectFrom('audit_checkpoints').selectAll().orderBy('seq', 'asc').execute()
    ).map((c) => ({
      seq: Number(c.seq),
      ts: Number(c.ts),
      hash: c.hash,
      signature: c.signature,
    }));
    const bySeq = new Map(checkpoints.map((c) => [c.seq, c]));
    let expectedSeq = 1;
    let prevHash = GENESIS_HASH;
    let entries = 0;
    const broken = (seq: number, reason: string): AuditVerifyResult => ({
      ok: false,
      entries,
      firstBroken: seq,
      reason,
      checkpoints: checkpoints.length,
    });
    // Checkpoint signatures first: a forged checkpoint is a break at its own sequence number.
    for (const c of checkpoints) {
      if (!verifyDetached(publicKey, checkpointPayload(c.seq, c.hash, c.ts), c.signature)) {
        return broken(c.seq, `checkpoint at ${c.seq} has an invalid signature`);
      }
    }
    const PAGE = 1000;
    for (;;) {
      const rows = await db
        .selectFrom('audit_entries')
        .selectAll()
        .where('seq', '>=', expectedSeq)
        .orderBy('seq', 'asc')
        .limit(PAGE)
        .execute();
      for (const row of rows) {
        const e = rowToEntry(row);
        if (e.seq !== expectedSeq) return broken(expectedSeq, `entry ${expectedSeq} is missing`);
        if (e.prevHash !== prevHash)
          return broken(e.seq, `entry ${e.seq} does not link to the entry before it`);
        if (entryHash(e) !== e.hash) return broken(e.seq, `entry ${e.seq} was changed after it was written`);
        const cp = bySeq.get(e.seq);
        if (cp && cp.hash !== e.hash)
          return broken(e.seq, `entry ${e.seq} differs from its signed checkpoint`);
        prevHash = e.hash;
        expectedSeq = e.seq + 1;
        entries++;
      }
      if (rows.length < PAGE) break;
    }
    const lastCheckpoint = checkpoints.at(-1);
    if (lastCheckpoint && lastCheckpoint.seq >= expectedSeq) {
      return broken(
        expectedSeq,
        `entries from ${expectedSeq} to ${lastCheckpoint.seq} were removed (a signed checkpoint covers them)`,
      );
    }
    return { ok: true, entries, firstBroken: null, reason: null, checkpoints: checkpoints.length };
  };

  const checkpoint = async (): Promise<{ seq: number; hash: string } | null> => {
    const run = tail.then(() =>
      deps.state.transaction(async (anyTrx) => {
        const trx = anyTrx as typeof db;
        await lockChain(deps.state, trx);
        const head = await trx
          .selectFrom('audit_entries')
          .select(['seq', 'hash'])
          .orderBy('seq', 'desc')
          .limit(1)
          .executeTakeFirst();
        if (!head) return null;
        const seq = Number(head.seq);
        const existing = await trx
          .selectFrom('audit_checkpoints')
          .select('seq')
          .where('seq', '=', seq)
          .executeTakeFirst();
        if (existing) return null;
        const ts = deps.clock.now().getTime();
        await trx
          .insertInto('audit_checkpoints')
          .values({
            seq,
            ts,
            hash: head.hash,
            signature: signDetached(config.signingKey, checkpointPayload(seq, head.hash, ts)),
            public_key: publicKey,
          })
          .execute();
        return { seq, hash: head.hash };
      }),
    );
    tail = run.catch(() => undefined);
    return run;
  };

  return { record, list, verify, checkpoint };
}
