/**
 * `candor evaluate churn --orders FILE --format online-retail [--horizon-days N] --json`: a temporal split of an
 * order history (train on the earlier cut-off, test on the later), ROC-AUC, PR-AUC, Brier score and
 * calibration of the churn model beside an RFM-rule baseline. Works on files only; the data directory is never
 * opened.
 */
import type { Command } from 'commander';
import { AppError } from '../../kernel/errors.ts';
import { readOnlineRetailOrders } from '../../flows/import-orders/online-retail.ts';
import { evaluateChurn, type ChurnOrder, type ChurnReport } from '../../modules/marketing/index.ts';
import { globals, integer, type Io } from '../program.ts';

function formatReport(r: ChurnReport): string {
  const f = (x: number) => (Number.isNaN(x) ? 'n/a' : x.toFixed(4));
  const lines = [
    `horizon ${r.horizonDays} days · train at ${r.split.train.cutoff} (${r.split.train.customers} customers, churn ${f(r.split.train.churnRate)}) · test at ${r.split.test.cutoff} (${r.split.test.customers}, churn ${f(r.split.test.churnRate)})`,
    'scorer         ROC-AUC  PR-AUC  Brier   ECE',
  ];
  for (const [name, m] of Object.entries(r.results))
    lines.push(`${name.padEnd(13)}  ${f(m.rocAuc)}   ${f(m.prAuc)}  ${f(m.brier)}  ${f(m.ece)}`);
  return lines.join('\n');
}

export function evaluateChurnCommand(program: Command, io: Io): void {
  const evaluate =
    program.commands.find((c) => c.name() === 'evaluate') ??
    program.command('evaluate').description('Offline evaluation of Candor models on your own data.');
  evaluate
    .command('churn')
    .description('Evaluate the churn-risk model on an order history (temporal split, beside an RFM rule).')
    .requiredOption('--orders <file>', 'order export (.csv or .csv.gz)')
    .option('--format <format>', 'file format (online-retail)', 'online-retail')
    .option(
      '--horizon-days <n>',
      'a customer has churned after this many days without an order',
      integer('--horizon-days', 7, 365),
      90,
    )
    .action(async (opts: { orders: string; format: string; horizonDays: number }) => {
      if (opts.format !== 'online-retail')
        throw new AppError(
          'invalid_request',
          `Unknown --format ${opts.format}; the supported format is online-retail.`,
        );
      const orders: ChurnOrder[] = [];
      for await (const o of readOnlineRetailOrders(opts.orders)) {
        // Guest orders cannot be followed over time.
        if (o.customerId)
          orders.push({ customerId: o.customerId, ts: o.ts, revenue: o.revenue, kind: o.kind });
      }
      if (orders.length === 0)
        throw new AppError('invalid_request', `No orders with a customer id were read from ${opts.orders}.`);
      const report = evaluateChurn(orders, opts.horizonDays);
      io.out(globals(evaluate).json ? JSON.stringify(report) : formatReport(report));
    });
}
