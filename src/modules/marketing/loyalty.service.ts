/**
 * Loyalty points as a double-entry ledger. Every movement is a transaction with an idempotency key and
 * postings that sum to zero across accounts (`shopper`, `issued`, `redeemed`, `expired`, `reversed`); the
 * shopper's balance is kept on `loyalty_accounts` and only ever lowered by a conditional update
 * (`balance >= n`), which is atomic on SQLite and PostgreSQL alike, so concurrent redemptions cannot push it
 * below zero. Suspicious earning (many reviews in minutes, self-referrals) is held for a person to review.
 */
import type { Kysely } from 'kysely';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import type { StateStore } from '../../storage/ports.ts';
import { marketingDb, type LoyaltyTransactionRow, type MarketingTables } from './store.ts';

export type LoyaltyConfig = {
  /** Points per major currency unit of a purchase (amounts arrive in minor units). */
  pointsPerUnit?: number;
  reviewPoints?: number;
  sharePoints?: number;
  /** Earned points expire after this many days. */
  expiryDays?: number;
  /** Coupon value in minor units per point. */
  couponValuePerPoint?: number;
  /** Farming: more than this many review earns within `reviewWindowMs` are held. */
  reviewBurst?: number;
  reviewWindowMs?: number;
};

export type EarnInput =
  | { rule: 'purchase'; subjectId: string; idempotencyKey: string; orderId: string; amountMinor: number }
  | { rule: 'review'; subjectId: string; idempotencyKey: string; productId: string }
  | {
      rule: 'share';
      subjectId: string;
      idempotencyKey: string;
      productId: string;
      /** The subject who followed the shared link, when known (self-referrals are held). */
      referredSubjectId?: string;
    };

export type LoyaltyTransaction = {
  id: string;
  kind: string;
  points: number;
  status: 'posted' | 'held' | 'rejected';
  reference: string | null;
  reason: string | null;
  expiresAt: number | null;
  createdAt: number;
  /** True when this call found the transaction already recorded under its idempotency key. */
  replayed: boolean;
};

export type Coupon = { code: string; points: number; valueMinor: number; currency: string };

type Trx = Kysely<MarketingTables>;

const DAY = 86_400_000;

function toTxn(r: LoyaltyTransactionRow, replayed: boolean): LoyaltyTransaction {
  return {
    id: r.id,
    kind: r.kind,
    points: Number(r.points),
    status: r.status as LoyaltyTransaction['status'],
    reference: r.reference,
    reason: r.reason,
    expiresAt: r.expires_at === null ? null : Number(r.expires_at),
    createdAt: Number(r.created_at),
    replayed,
  };
}

function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown };
  return (
    err.code === '23505' ||
    err.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    (typeof err.message === 'string' && /UNIQUE constraint failed/.test(err.message))
  );
}

export type LoyaltyService = ReturnType<typeof createLoyaltyService>;

export function createLoyaltyService(deps: { state: StateStore; clock: Clock }, config: LoyaltyConfig = {}) {
  const db = marketingDb(deps.state);
  const cfg = {
    pointsPerUnit: config.pointsPerUnit ?? 1,
    reviewPoints: config.reviewPoints ?? 50,
    sharePoints: config.sharePoints ?? 10,
    expiryDays: config.expiryDays ?? 365,
    couponValuePerPoint: config.couponValuePerPoint ?? 1,
    reviewBurst: config.reviewBurst ?? 3,
    reviewWindowMs: config.reviewWindowMs ?? 10 * 60_000,
  };
  const now = () => deps.clock.now().getTime();
  const transaction = <T>(fn: (trx: Trx) => Promise<T>): Promise<T> =>
    deps.state.transaction((trx) => fn(trx as Trx));

  async function byKey(trx: Trx, key: string): Promise<LoyaltyTransactionRow | undefined> {
    return trx
      .selectFrom('loyalty_transactions')
      .selectAll()
      .where('idempotency_key', '=', key)
      .executeTakeFirst();
  }

  function replay(existing: LoyaltyTransactionRow, subjectId: string): LoyaltyTransaction {
    if (existing.subject_id !== subjectId)
      throw new AppError(
        'conflict',
        'This idempotency key was used for another shopper; use a new key per movement.',
      );
    return toTxn(existing, true);
  }

  /** Writes the postings and moves the shopper's balance; `points` is the shopper's signed change. */
  async function post(
    trx: Trx,
    txnId: string,
    subjectId: string,
    points: number,
    counter: string,
  ): Promise<boolean> {
    const ts = now();
    if (points < 0) {
      const r = await trx
        .updateTable('loyalty_accounts')
        .set((eb) => ({ balance: eb('balance', '+', points), updated_at: ts }))
        .where('subject_id', '=', subjectId)
        .where('balance', '>=', -points)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
    } else if (points > 0) {
      await trx
        .insertInto('loyalty_accounts')
        .values({ subject_id: subjectId, balance: points, updated_at: ts })
        .onConflict((oc) =>
          oc.column('subject_id').doUpdateSet((eb) => ({
            balance: eb('loyalty_accounts.balance', '+', points),
            updated_at: ts,
          })),
        )
        .execute();
    }
    if (points !== 0) {
      await trx
        .insertInto('loyalty_postings')
        .values([
          { txn_id: txnId, account: 'shopper', subject_id: subjectId, amount: points, created_at: ts },
          { txn_id: txnId, account: counter, subject_id: null, amount: -points, created_at: ts },
        ])
        .execute();
    }
    return true;
  }

  /** Inserts the transaction row first: the unique idempotency key makes a concurrent duplicate fail here. */
  async function record(
    fn: (trx: Trx) => Promise<LoyaltyTransaction>,
    key: string,
    subjectId: string,
  ): Promise<LoyaltyTransaction> {
    try {
      return await transaction(fn);
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      const existing = await byKey(db, key);
      if (!existing) throw e;
      return replay(existing, subjectId);
    }
  }

  async function holdReason(trx: Trx, input: EarnInput): Promise<string | null> {
    if (input.rule === 'review') {
      const recent = await trx
        .selectFrom('loyalty_transactions')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('subject_id', '=', input.subjectId)
        .where('kind', '=', 'earn_review')
        .where('created_at', '>=', now() - cfg.reviewWindowMs)
        .executeTakeFirstOrThrow();
      if (Number(recent.n) >= cfg.reviewBurst)
        return `more than ${cfg.reviewBurst} reviews within ${Math.round(cfg.reviewWindowMs / 60_000)} minutes`;
    }
    if (input.rule === 'share' && input.referredSubjectId === input.subjectId) return 'self-referral';
    return null;
  }

  async function earn(input: EarnInput): Promise<LoyaltyTransaction> {
    const existing = await byKey(db, input.idempotencyKey);
    if (existing) return replay(existing, input.subjectId);
    let points: number;
    let reference: string;
    if (input.rule === 'purchase') {
      points = Math.floor((input.amountMinor / 100) * cfg.pointsPerUnit);
      reference = input.orderId;
    } else if (input.rule === 'review') {
      points = cfg.reviewPoints;
      reference = input.productId;
    } else {
      points = cfg.sharePoints;
      reference = input.productId;
    }
    const kind = `earn_${input.rule}`;
    return record(
      async (trx) => {
        // One review and one share reward per product and shopper.
        if (input.rule !== 'purchase') {
          const dup = await trx
            .selectFrom('loyalty_transactions')
            .select('id')
            .where('subject_id', '=', input.subjectId)
            .where('kind', '=', kind)
            .where('reference', '=', reference)
            .where('status', '!=', 'rejected')
            .executeTakeFirst();
          if (dup)
            throw new AppError(
              'conflict',
              `Points for this ${input.rule} of product ${reference} were already given.`,
            );
        }
        const reason = await holdReason(trx, input);
        const id = newId('ltx');
        const ts = now();
        const row: LoyaltyTransactionRow = {
          id,
          subject_id: input.subjectId,
          idempotency_key: input.idempotencyKey,
          kind,
          points,
          status: reason ? 'held' : 'posted',
          reference,
          reason,
          expires_at: ts + cfg.expiryDays * DAY,
          reverses_id: null,
          created_at: ts,
        };
        await trx.insertInto('loyalty_transactions').values(row).execute();
        if (!reason) await post(trx, id, input.subjectId, points, 'issued');
        return toTxn(row, false);
      },
      input.idempotencyKey,
      input.subjectId,
    );
  }

  async function redeem(input: {
    subjectId: string;
    points: number;
    idempotencyKey: string;
    currency?: string;
  }): Promise<{ transaction: LoyaltyTransaction; coupon: Coupon; balance: number }> {
    if (!Number.isInteger(input.points) || input.points <= 0)
      throw new AppError('invalid_request', 'points must be a positive whole number.');
    const existing = await byKey(db, input.idempotencyKey);
    const finish = async (t: LoyaltyTransaction) => {
      const c = await db
        .selectFrom('loyalty_coupons')
        .selectAll()
        .where('txn_id', '=', t.id)
        .executeTakeFirstOrThrow();
      return {
        transaction: t,
        coupon: {
          code: c.code,
          points: Number(c.points),
          valueMinor: Number(c.value_minor),
          currency: c.currency,
        },
        balance: await balance(input.subjectId),
      };
    };
    if (existing) return finish(replay(existing, input.subjectId));
    const t = await record(
      async (trx) => {
        const id = newId('ltx');
        const ts = now();
        const row: LoyaltyTransactionRow = {
          id,
          subject_id: input.subjectId,
          idempotency_key: input.idempotencyKey,
          kind: 'redeem',
          points: -input.points,
          status: 'posted',
          reference: null,
          reason: null,
          expires_at: null,
          reverses_id: null,
          created_at: ts,
        };
        await trx.insertInto('loyalty_transactions').values(row).execute();
        if (!(await post(trx, id, input.subjectId, -input.points, 'redeemed'))) {
          throw new AppError(
            'conflict',
            `Not enough points: redeeming ${input.points} needs a balance of at least ${input.points}. Check GET /v1/me/loyalty.`,
          );
        }
        await trx
          .insertInto('loyalty_coupons')
          .values({
            code: `PTS-${randomBytes(6).toString('hex').toUpperCase()}`,
            subject_id: input.subjectId,
            txn_id: id,
            points: input.points,
            value_minor: input.points * cfg.couponValuePerPoint,
            currency: input.currency ?? 'USD',
            created_at: ts,
          })
          .execute();
        return toTxn(row, false);
      },
      input.idempotencyKey,
      input.subjectId,
    );
    return finish(t);
  }

  /** Reverses the points an order earned; never below zero (points already spent stay spent, and are reported). */
  async function refund(input: {
    orderId: string;
    idempotencyKey: string;
  }): Promise<{ reversed: number; shortfall: number; transactions: LoyaltyTransaction[] }> {
    const earned = await db
      .selectFrom('loyalty_transactions')
      .selectAll()
      .where('kind', '=', 'earn_purchase')
      .where('reference', '=', input.orderId)
      .execute();
    if (earned.length === 0)
      throw new AppError(
        'not_found',
        `No points were earned for order ${input.orderId}; nothing to reverse.`,
      );
    let reversed = 0;
    let shortfall = 0;
    const out: LoyaltyTransaction[] = [];
    for (const e of earned) {
      const key = `${input.idempotencyKey}:${e.id}`;
      if (e.status === 'held') {
        await db
          .updateTable('loyalty_transactions')
          .set({ status: 'rejected', reason: 'order refunded' })
          .where('id', '=', e.id)
          .execute();
        continue;
      }
      if (e.status !== 'posted') continue;
      const done = await byKey(db, key);
      if (done) {
        out.push(replay(done, e.subject_id));
        reversed += -Number(done.points);
        continue;
      }
      const t = await record(
        async (trx) => {
          const prior = await trx
            .selectFrom('loyalty_transactions')
            .select('id')
            .where('reverses_id', '=', e.id)
            .executeTakeFirst();
          if (prior) throw new AppError('conflict', `Order ${input.orderId} was already refunded.`);
          const acct = await trx
            .selectFrom('loyalty_accounts')
            .select('balance')
            .where('subject_id', '=', e.subject_id)
            .executeTakeFirst();
          const want = Number(e.points);
          const take = Math.min(want, Number(acct?.balance ?? 0));
          const id = newId('ltx');
          const row: LoyaltyTransactionRow = {
            id,
            subject_id: e.subject_id,
            idempotency_key: key,
            kind: 'reverse',
            points: -take,
            status: 'posted',
            reference: input.orderId,
            reason: take < want ? `${want - take} points were already spent` : null,
            expires_at: null,
            reverses_id: e.id,
            created_at: now(),
          };
          await trx.insertInto('loyalty_transactions').values(row).execute();
          if (!(await post(trx, id, e.subject_id, -take, 'reversed')))
            throw new AppError('conflict', 'The balance changed during the refund; retry with the same key.');
          reversed += take;
          shortfall += want - take;
          return toTxn(row, false);
        },
        key,
        e.subject_id,
      );
      out.push(t);
    }
    return { reversed, shortfall, transactions: out };
  }

  /**
   * Expires points first-in-first-out: what expired earnings exceed everything already spent, expired or
   * reversed must go. The key carries the cumulative expired amount, so re-running is a no-op.
   */
  async function expire(): Promise<{ subjects: number; points: number }> {
    const ts = now();
    const rows = await db
      .selectFrom('loyalty_transactions')
      .select(['subject_id'])
      .where('status', '=', 'posted')
      .where('expires_at', '<=', ts)
      .groupBy('subject_id')
      .execute();
    let subjects = 0;
    let total = 0;
    for (const { subject_id: subjectId } of rows) {
      const sums = await db
        .selectFrom('loyalty_transactions')
        .select((eb) => [
          eb.fn
            .sum<number>(eb.case().when('expires_at', '<=', ts).then(eb.ref('points')).else(0).end())
            .as('expired_earned'),
          eb.fn
            .sum<number>(eb.case().when('points', '<', 0).then(eb.ref('points')).else(0).end())
            .as('debits'),
        ])
        .where('subject_id', '=', subjectId)
        .where('status', '=', 'posted')
        .executeTakeFirstOrThrow();
      const expiredEarned = Number(sums.expired_earned ?? 0);
      const due = expiredEarned + Number(sums.debits ?? 0);
      if (due <= 0) continue;
      const key = `expire:${subjectId}:${expiredEarned}`;
      const t = await record(
        async (trx) => {
          const acct = await trx
            .selectFrom('loyalty_accounts')
            .select('balance')
            .where('subject_id', '=', subjectId)
            .executeTakeFirst();
          const take = Math.min(due, Number(acct?.balance ?? 0));
          const id = newId('ltx');
          const row: LoyaltyTransactionRow = {
            id,
            subject_id: subjectId,
            idempotency_key: key,
            kind: 'expire',
            points: -take,
            status: 'posted',
            reference: null,
            reason: `earned more than ${cfg.expiryDays} days ago`,
            expires_at: null,
            reverses_id: null,
            created_at: ts,
          };
          await trx.insertInto('loyalty_transactions').values(row).execute();
          await post(trx, id, subjectId, -take, 'expired');
          return toTxn(row, false);
        },
        key,
        subjectId,
      );
      if (!t.replayed) {
        subjects++;
        total += -t.points;
      }
    }
    return { subjects, points: total };
  }

  async function decide(txnId: string, approve: boolean): Promise<LoyaltyTransaction> {
    return transaction(async (trx) => {
      const row = await trx
        .selectFrom('loyalty_transactions')
        .selectAll()
        .where('id', '=', txnId)
        .executeTakeFirst();
      if (!row) throw new AppError('not_found', `No loyalty transaction ${txnId}.`);
      if (row.status !== 'held')
        throw new AppError(
          'conflict',
          `Transaction ${txnId} is ${row.status}; only held transactions are reviewed.`,
        );
      const status = approve ? 'posted' : 'rejected';
      const upd = await trx
        .updateTable('loyalty_transactions')
        .set({ status })
        .where('id', '=', txnId)
        .where('status', '=', 'held')
        .executeTakeFirst();
      if (Number(upd.numUpdatedRows) !== 1)
        throw new AppError('conflict', 'Another reviewer decided it first.');
      if (approve) await post(trx, row.id, row.subject_id, Number(row.points), 'issued');
      return toTxn({ ...row, status }, false);
    });
  }

  async function balance(subjectId: string): Promise<number> {
    const r = await db
      .selectFrom('loyalty_accounts')
      .select('balance')
      .where('subject_id', '=', subjectId)
      .executeTakeFirst();
    return Number(r?.balance ?? 0);
  }

  return {
    earn,
    redeem,
    refund,
    expire,
    approve: (id: string) => decide(id, true),
    reject: (id: string) => decide(id, false),
    balance,
    async history(subjectId: string, limit = 100): Promise<LoyaltyTransaction[]> {
      return (
        await db
          .selectFrom('loyalty_transactions')
          .selectAll()
          .where('subject_id', '=', subjectId)
          .orderBy('created_at', 'desc')
          .orderBy('id', 'desc')
          .limit(limit)
          .execute()
      ).map((r) => toTxn(r, false));
    },
    async held(): Promise<(LoyaltyTransaction & { subjectId: string })[]> {
      return (
        await db
          .selectFrom('loyalty_transactions')
          .selectAll()
          .where('status', '=', 'held')
          .orderBy('created_at')
          .execute()
      ).map((r) => ({ ...toTxn(r, false), subjectId: r.subject_id }));
    },
    /** Ledger invariants: postings sum to zero, and every account balance equals its postings. */
    async verify(): Promise<{ ok: boolean; imbalance: number; mismatchedAccounts: number }> {
      const s = await db
        .selectFrom('loyalty_postings')
        .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('amount'), eb.lit(0)).as('total'))
        .executeTakeFirstOrThrow();
      const per = await db
        .selectFrom('loyalty_postings')
        .select((eb) => ['subject_id', eb.fn.sum<number>('amount').as('total')])
        .where('account', '=', 'shopper')
        .groupBy('subject_id')
        .execute();
      const accounts = new Map(
        (await db.selectFrom('loyalty_accounts').selectAll().execute()).map((a) => [
          a.subject_id,
          Number(a.balance),
        ]),
      );
      let mismatched = 0;
      for (const p of per) if ((accounts.get(p.subject_id!) ?? 0) !== Number(p.total)) mismatched++;
      const imbalance = Number(s.total);
      return { ok: imbalance === 0 && mismatched === 0, imbalance, mismatchedAccounts: mismatched };
    },
    async exportSubjects(ids: readonly string[]) {
      if (ids.length === 0) return { accounts: [], transactions: [], postings: [], coupons: [] };
      const list = [...ids];
      return {
        accounts: await db
          .selectFrom('loyalty_accounts')
          .selectAll()
          .where('subject_id', 'in', list)
          .execute(),
        transactions: await db
          .selectFrom('loyalty_transactions')
          .selectAll()
          .where('subject_id', 'in', list)
          .execute(),
        postings: await db
          .selectFrom('loyalty_postings')
          .selectAll()
          .where('subject_id', 'in', list)
          .execute(),
        coupons: await db.selectFrom('loyalty_coupons').selectAll().where('subject_id', 'in', list).execute(),
      };
    },
    /**
     * Erasure removes the shopper's accounts and rows. Their counter-postings stay, unlinked from any person,
     * so the shop's liability totals remain consistent; a single balancing posting closes the ledger.
     */
    async eraseSubjects(ids: readonly string[]): Promise<number> {
      if (ids.length === 0) return 0;
      const list = [...ids];
      return transaction(async (trx) => {
        const sums = await trx
          .selectFrom('loyalty_postings')
          .select((eb) => eb.fn.sum<number>('amount').as('total'))
          .where('subject_id', 'in', list)
          .executeTakeFirstOrThrow();
        const open = Number(sums.total ?? 0);
        let deleted = 0;
        for (const table of [
          'loyalty_postings',
          'loyalty_coupons',
          'loyalty_transactions',
          'loyalty_accounts',
        ] as const) {
          const r = await trx.deleteFrom(table).where('subject_id', 'in', list).executeTakeFirst();
          deleted += Number(r.numDeletedRows);
        }
        if (open !== 0) {
          await trx
            .insertInto('loyalty_postings')
            .values({
              txn_id: newId('ltx'),
              account: 'erased',
              subject_id: null,
              amount: open,
              created_at: now(),
            })
            .execute();
        }
        return deleted;
      });
    },
  };
}
