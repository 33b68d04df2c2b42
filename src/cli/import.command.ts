/**
 * `candor import orders --format online-retail FILE.csv[.gz] [--consent necessary|analytics,...] [--json]`:
 * a shop's order history through the consent ledger and the ingestion pipeline, with a progress line on a
 * terminal and a summary (rows read, orders imported, quarantined by reason).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { existsSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import { createPseudonymizer } from '../kernel/crypto.ts';
import { AppError } from '../kernel/errors.ts';
import type { CandorModule } from '../kernel/module.ts';
import {
  createOrderImport,
  readOnlineRetailOrders,
  type ImportOrdersSummary,
  type ImportProgress,
} from '../flows/import-orders/index.ts';
import type { AuthModule } from '../modules/auth/index.ts';
import { isPurpose, type ConsentModule, type Purpose } from '../modules/consent/index.ts';
import type { IngestModule } from '../modules/ingest/index.ts';
import type { Candor } from '../server/index.ts';
import { cliPath, openCandorForCli } from './admin-client.ts';
import { globals, type Io } from './program.ts';

export const IMPORT_FORMATS = ['online-retail'] as const;

function moduleOf<M extends CandorModule>(candor: Candor, name: string): M {
  const m = candor.modules.find((x) => x.name === name);
  if (!m) throw new AppError('config_invalid', `Importing needs the ${name} module, which is not loaded.`);
  return m as M;
}

/** `--consent analytics,personalization` → purposes (`necessary` is always implied). */
export function parseConsentList(value: string): Purpose[] {
  const out: Purpose[] = [];
  for (const raw of value.split(',')) {
    const p = raw.trim();
    if (p === '') continue;
    if (!isPurpose(p))
      throw new InvalidArgumentError(
        `Unknown purpose "${p}". Use necessary, analytics, personalization, marketing_email, marketing_push, advertising or sale.`,
      );
    if (p !== 'necessary') out.push(p);
  }
  return out;
}

/** The source an import sends from: one per format, reused on the next import so re-imports deduplicate. */
async function importSource(auth: AuthModule, format: string) {
  const name = `Order import (${format})`;
  const existing = (await auth.keys.listSources()).find((s) => s.name === name);
  if (!existing) return auth.keys.createSource(name, 'system:import');
  const { writeKey } = await auth.keys.rotateWriteKey(existing.id, 0, 'system:import');
  return { sourceId: existing.id, writeKey };
}

export type ImportResult = ImportOrdersSummary & {
  rowsRead: number;
  rowsRejected: ImportProgress['rejected'];
  sourceId: string;
};

/** Imports an Online Retail file into an open Candor. */
export async function importOrdersInto(
  candor: Candor,
  input: { file: string; format: string; consent: readonly Purpose[] },
  onProgress?: (p: { rowsRead: number; orders: number }) => void,
): Promise<ImportResult> {
  const consent = moduleOf<ConsentModule>(candor, 'consent');
  const ingest = moduleOf<IngestModule>(candor, 'ingest');
  const source = await importSource(moduleOf<AuthModule>(candor, 'auth'), input.format);
  const run = createOrderImport(
    {
      consent: consent.service,
      ingest: ingest.service,
      pseudonymize: createPseudonymizer(candor.config.secrets.pseudonymKey ?? ''),
      writeKey: source.writeKey,
      sourceId: source.sourceId,
    },
    { consent: input.consent, format: input.format },
  );
  const progress: ImportProgress = { rowsRead: 0, orders: 0, rejected: {} };
  let last = 0;
  for await (const order of readOnlineRetailOrders(input.file, progress)) {
    await run.add(order);
    if (onProgress && progress.rowsRead - last >= 5_000) {
      last = progress.rowsRead;
      onProgress({ rowsRead: progress.rowsRead, orders: run.summary().orders });
    }
  }
  const summary = await run.finish();
  onProgress?.({ rowsRead: progress.rowsRead, orders: summary.orders });
  return {
    ...summary,
    rowsRead: progress.rowsRead,
    rowsRejected: { ...progress.rejected },
    sourceId: source.sourceId,
  };
}

export function importSummaryLine(r: ImportResult): string {
  const reasons = (m: Record<string, number | undefined>) =>
    Object.entries(m)
      .filter(([, n]) => (n ?? 0) > 0)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ') || 'none';
  return [
    `Rows read: ${r.rowsRead} (rejected: ${reasons(r.rowsRejected)}).`,
    `Orders: ${r.orders} read, ${r.accepted} imported, ${r.dropped} dropped, quarantined: ${reasons(r.quarantined)}; ${r.refundsSkipped} cancellations skipped.`,
    `Customers: ${r.customers} (${r.consentRecorded} consent decisions recorded with method import).`,
  ].join('\n');
}

type ImportOptions = { format: string; consent: Purpose[] };

export function importCommand(program: Command, io: Io): void {
  const imp = program.command('import').description('Import data a shop already has.');
  imp
    .command('orders')
    .description('Import an order history; customers get the consent stated here (default: necessary only).')
    .argument('<file>', 'CSV file, plain or .gz')
    .requiredOption('--format <format>', `file format (${IMPORT_FORMATS.join(', ')})`)
    .option(
      '--consent <purposes>',
      'purposes the customers consented to, comma-separated (default: necessary only)',
      parseConsentList,
      [] as Purpose[],
    )
    .action(async (given: string, opts: ImportOptions, cmd: Command) => {
      const g = globals(cmd);
      const file = cliPath(io, given);
      if (!(IMPORT_FORMATS as readonly string[]).includes(opts.format))
        throw new AppError(
          'invalid_request',
          `Unknown --format ${opts.format}; use ${IMPORT_FORMATS.join(', ')}.`,
        );
      if (!existsSync(file))
        throw new AppError('invalid_request', `No file at ${given}. Give the path of the CSV export.`);
      const session = await openCandorForCli(cmd, io);
      // A running server did the whole command and its output is printed.
      if (!session) return;
      const { candor } = session;
      // Inside the server (admin endpoint) the caller's terminal is elsewhere: no bar.
      const bar =
        process.stderr.isTTY && !io.server
          ? new SingleBar({
              format: 'import {value} rows read, {orders} orders',
              stream: process.stderr,
              hideCursor: true,
            })
          : undefined;
      bar?.start(0, 0, { orders: 0 });
      try {
        const t0 = performance.now();
        const result = await importOrdersInto(
          candor,
          { file, format: opts.format, consent: opts.consent },
          (p) => bar?.update(p.rowsRead, { orders: p.orders }),
        );
        bar?.stop();
        if (g.json) io.out(JSON.stringify(result));
        else
          io.out(`${importSummaryLine(result)}\nDone in ${((performance.now() - t0) / 1000).toFixed(1)} s.`);
      } finally {
        bar?.stop();
        await session.close();
      }
    });
}
