/**
 * `candor evaluate fraud --transactions FILE.csv --label-col COL --time-col COL [--columns field=col,…] --json`:
 * a temporal split of a labelled transaction file, with PR-AUC, ROC-AUC and recall at 1 % / 5 % FPR for an
 * amount-only baseline, the rules, the model and their combination. `candor evaluate fraud-scenario --out FILE`
 * writes the synthetic scenario it is reported on. Works on files only; the data directory is never opened.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AppError } from '../../kernel/errors.ts';
import {
  evaluateFraud,
  generateScenario,
  parseColumnMap,
  scenarioToCsv,
  type EvaluationReport,
} from '../../modules/fraud/index.ts';
import { globals, integer, type Io } from '../program.ts';

type Opts = {
  transactions: string;
  labelCol: string;
  timeCol: string;
  columns?: string;
  trainShare?: string;
};

function formatReport(r: EvaluationReport): string {
  const f = (x: number) => (Number.isNaN(x) ? 'n/a' : x.toFixed(4));
  const lines = [
    `${r.rows} transactions · train ${r.split.train.rows} (${r.split.train.positives} fraud, to ${r.split.train.to}) · test ${r.split.test.rows} (${r.split.test.positives} fraud, from ${r.split.test.from})`,
    'scorer        PR-AUC  ROC-AUC  recall@1%FPR  recall@5%FPR',
  ];
  for (const [name, m] of Object.entries(r.results)) {
    lines.push(
      `${name.padEnd(12)}  ${f(m.prAuc)}  ${f(m.rocAuc)}   ${f(m.recallAt1pctFpr)}        ${f(m.recallAt5pctFpr)}`,
    );
  }
  return lines.join('\n');
}

/** Adds `fraud` and `fraud-scenario` under the `evaluate` command group (creating the group if needed). */
export function evaluateFraudCommand(program: Command, io: Io): void {
  const evaluate =
    program.commands.find((c) => c.name() === 'evaluate') ??
    program.command('evaluate').description('Offline evaluation of Candor models on your own data.');
  evaluate
    .command('fraud')
    .description(
      'Evaluate fraud scoring on a labelled transaction CSV (train on the earlier part, test on the later).',
    )
    .requiredOption('--transactions <file>', 'CSV of transactions, one per row, with a header')
    .requiredOption('--label-col <column>', 'column holding 1/0 (fraud or not)')
    .requiredOption('--time-col <column>', 'column holding the time (ISO 8601 or epoch seconds/ms)')
    .option(
      '--columns <map>',
      'map input fields to CSV columns, e.g. amount=price,email=email_address,ip=ip (fields: order, amount, currency, customer, account_created, email, ip, ip_country, device, card, bin_country, billing_country, shipping_country, shipping_address, product, category, quantity, unit_price, list_price, coupons, discount, auth, three_ds, avs, cvv, outcome)',
    )
    .option('--train-share <x>', 'share of rows, by time, used for training (default 0.7)')
    .action(async (opts: Opts) => {
      const g = globals(evaluate);
      const trainShare = opts.trainShare === undefined ? undefined : Number(opts.trainShare);
      if (trainShare !== undefined && !(trainShare > 0.1 && trainShare < 0.95)) {
        throw new AppError('invalid_request', '--train-share must be a number between 0.1 and 0.95.');
      }
      const report = await evaluateFraud({
        file: opts.transactions,
        labelCol: opts.labelCol,
        timeCol: opts.timeCol,
        ...(opts.columns ? { columns: parseColumnMap(opts.columns) } : {}),
        ...(trainShare !== undefined ? { trainShare } : {}),
      });
      io.out(g.json ? JSON.stringify(report) : formatReport(report));
    });
  evaluate
    .command('fraud-scenario')
    .description('Write the synthetic fraud scenario (legitimate traffic plus five attack patterns) as CSV.')
    .requiredOption('--out <file>', 'where to write the CSV')
    .option('--seed <n>', 'random seed', integer('--seed', 0, 2 ** 31 - 1), 42)
    .option('--customers <n>', 'legitimate customers', integer('--customers', 50, 1_000_000), 1500)
    .option('--days <n>', 'days of traffic', integer('--days', 7, 3650), 60)
    .action((opts: { out: string; seed: number; customers: number; days: number }) => {
      const rows = generateScenario({ seed: opts.seed, customers: opts.customers, days: opts.days });
      writeFileSync(opts.out, scenarioToCsv(rows));
      const fraud = rows.filter((r) => r.is_fraud === 1).length;
      const summary = { file: opts.out, rows: rows.length, fraud };
      io.out(
        globals(evaluate).json
          ? JSON.stringify(summary)
          : `Wrote ${rows.length} transactions (${fraud} fraud) to ${opts.out}.`,
      );
    });
}
