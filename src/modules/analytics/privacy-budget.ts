/**
 * The per-shop privacy budget. Every differentially private answer spends ε from a budget that refills
 * over a rolling period; a query that would overspend is refused before anything is released, and a
 * question asked before (same kind, parameters and ε) gets its recorded answer back at no cost.
 */
import type { Clock } from '../../kernel/clock.ts';
import { canonicalJson, sha256Hex } from '../../kernel/crypto.ts';
import { AppError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import type { StateStore } from '../../storage/ports.ts';
import { analyticsDb, lockLedger, type AnalyticsTables } from './store.ts';
import type { Kysely } from 'kysely';

export type PrivacyBudgetConfig = {
  /** Total ε the shop may spend per period. */
  epsilonBudget: number;
  /** Length of the rolling period, days. */
  periodDays: number;
};

export type BudgetStatus = { epsilonBudget: number; spent: number; remaining: number; periodDays: number };

export type Released<T> = { answer: T; cached: boolean; epsilonSpent: number; budget: BudgetStatus };

export type PrivacyBudget = {
  status(): Promise<BudgetStatus>;
  /**
   * Releases `compute()`'s answer for `epsilon`, or the recorded answer to the same question. Throws
   * `privacy_budget_exhausted` when the period's remaining budget is smaller than `epsilon`.
   */
  release<T>(
    kind: string,
    params: unknown,
    epsilon: number,
    actor: string,
    compute: () => Promise<T>,
  ): Promise<Released<T>>;
};

const round9 = (v: number) => Math.round(v * 1e9) / 1e9;

export function createPrivacyBudget(
  deps: { state: StateStore; clock: Clock },
  config: PrivacyBudgetConfig,
): PrivacyBudget {
  const db = analyticsDb(deps.state);
  const periodMs = config.periodDays * 86_400_000;

  const spentIn = async (q: Kysely<AnalyticsTables>): Promise<number> => {
    const since = deps.clock.now().getTime() - periodMs;
    const r = await q
      .selectFrom('analytics_dp_ledger')
      .select((eb) => eb.fn.sum<number | string | null>('epsilon').as('spent'))
      .where('ts', '>=', since)
      .executeTakeFirst();
    return round9(Number(r?.spent ?? 0));
  };
  const statusFrom = (spent: number): BudgetStatus => ({
    epsilonBudget: config.epsilonBudget,
    spent,
    remaining: round9(Math.max(0, config.epsilonBudget - spent)),
    periodDays: config.periodDays,
  });
  const exhausted = (spent: number, epsilon: number) =>
    new AppError(
      'privacy_budget_exhausted',
      `This report needs ε=${epsilon} but only ${round9(Math.max(0, config.epsilonBudget - spent))} of the shop's privacy budget ` +
        `(${config.epsilonBudget} per ${config.periodDays} days) is left. Ask with a smaller epsilon, repeat a question already answered ` +
        '(repeats are free), or wait until earlier spending leaves the period.',
      { details: { epsilonBudget: config.epsilonBudget, spent, requested: epsilon } },
    );
  const cachedAnswer = async (q: Kysely<AnalyticsTables>, key: string) =>
    q.selectFrom('analytics_dp_ledger').select(['answer']).where('query_key', '=', key).executeTakeFirst();

  return {
    async status() {
      return statusFrom(await spentIn(db));
    },
    async release(kind, params, epsilon, actor, compute) {
      const key = sha256Hex(canonicalJson({ kind, params, epsilon }));
      const hit = await cachedAnswer(db, key);
      if (hit)
        return {
          answer: JSON.parse(hit.answer) as Awaited<ReturnType<typeof compute>>,
          cached: true,
          epsilonSpent: 0,
          budget: await this.status(),
        };
      const before = await spentIn(db);
      if (before + epsilon > config.epsilonBudget + 1e-9) throw exhausted(before, epsilon);
      // Computed outside the ledger transaction (it reads the event store); nothing is released unless
      // the spend below is recorded.
      const answer = await compute();
      return deps.state.transaction(async (anyTrx) => {
        const trx = anyTrx as Kysely<AnalyticsTables>;
        await lockLedger(deps.state, trx);
        const raced = await cachedAnswer(trx, key);
        const spent = await spentIn(trx);
        if (raced)
          return {
            answer: JSON.parse(raced.answer) as Awaited<ReturnType<typeof compute>>,
            cached: true,
            epsilonSpent: 0,
            budget: statusFrom(spent),
          };
        if (spent + epsilon > config.epsilonBudget + 1e-9) throw exhausted(spent, epsilon);
        await trx
          .insertInto('analytics_dp_ledger')
          .values({
            id: newId('dpq'),
            ts: deps.clock.now().getTime(),
            query_key: key,
            kind,
            epsilon,
            actor,
            answer: JSON.stringify(answer),
          })
          .execute();
        return { answer, cached: false, epsilonSpent: epsilon, budget: statusFrom(round9(spent + epsilon)) };
      });
    },
  };
}
