/**
 * `candor evaluate fraud`: replays a labelled CSV of transactions in time order through the same feature code and
 * store tables production uses (a fresh SQLite state store in a temporary directory), splits by time (train on
 * the earlier part, test on the later), trains the model on the training part only, and reports PR-AUC,
 * ROC-AUC and recall at 1 % and 5 % false-positive rate for an amount-only baseline, the rules alone, the model
 * alone and the combined score.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createPseudonymizer } from '../../kernel/crypto.ts';
import { AppError } from '../../kernel/errors.ts';
import { openSqliteStateStore } from '../../storage/index.ts';
import { extractFeatures, type CatalogPrice, type FeatureValue, type OrderInput } from './features.ts';
import { keysOf, readHistory, recordAttempt } from './history.ts';
import { metricSet, type MetricSet } from './metrics.ts';
import { predict, trainLogistic } from './model.ts';
import {
  applyRules,
  combine,
  compileRules,
  DEFAULT_RULES,
  rulesOnlyScore,
  type Thresholds,
} from './rules.ts';
import type { Kysely } from 'kysely';
import { bumpEntity, fraudMigrations, type FraudTables } from './store.ts';

/** Input fields a CSV column can map onto (`--columns field=column,…`), with their default column names. */
export const DEFAULT_COLUMNS = {
  order: 'txn_id',
  amount: 'amount',
  currency: 'currency',
  customer: 'customer_id',
  account_created: 'account_created_at',
  email: 'email',
  ip: 'ip',
  ip_country: 'ip_country',
  device: 'device_id',
  card: 'card_fp',
  bin_country: 'bin_country',
  billing_country: 'billing_country',
  shipping_country: 'shipping_country',
  shipping_address: 'shipping_address',
  product: 'product_id',
  category: 'category',
  quantity: 'quantity',
  unit_price: 'unit_price',
  list_price: 'list_price',
  coupons: 'coupons',
  discount: 'discount',
  auth: 'auth_result',
  three_ds: 'three_ds',
  avs: 'avs',
  cvv: 'cvv',
  outcome: 'outcome',
} as const;
export type ColumnField = keyof typeof DEFAULT_COLUMNS;

export type EvaluateOptions = {
  file: string;
  labelCol: string;
  timeCol: string;
  /** `field=column` overrides of DEFAULT_COLUMNS. */
  columns?: Partial<Record<ColumnField, string>>;
  /** Share of the rows (by time) used for training (default 0.7). */
  trainShare?: number;
};

export type EvaluationReport = {
  file: string;
  rows: number;
  split: { trainShare: number; train: PartInfo; test: PartInfo };
  columns: Record<string, string | null>;
  results: { amountOnly: MetricSet; rulesOnly: MetricSet; modelOnly: MetricSet; combined: MetricSet };
};
type PartInfo = { rows: number; positives: number; from: string; to: string };

/** RFC 4180 CSV: quoted fields, doubled quotes, commas and newlines inside quotes. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** `amount=price,email=email_address` → { amount: 'price', email: 'email_address' }. */
export function parseColumnMap(spec: string): Partial<Record<ColumnField, string>> {
  const out: Partial<Record<ColumnField, string>> = {};
  for (const part of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    const field = part.slice(0, eq).trim();
    const column = part.slice(eq + 1).trim();
    if (eq < 1 || column === '')
      throw new AppError('invalid_request', `--columns entry '${part}' must look like field=column.`);
    if (!Object.hasOwn(DEFAULT_COLUMNS, field)) {
      throw new AppError(
        'invalid_request',
        `--columns: unknown field '${field}'. Fields: ${Object.keys(DEFAULT_COLUMNS).join(', ')}.`,
      );
    }
    out[field as ColumnField] = column;
  }
  return out;
}

function parseTime(s: string): number {
  const t = /^\d+(\.\d+)?$/.test(s.trim()) ? Number(s) * (Number(s) < 1e11 ? 1000 : 1) : Date.parse(s);
  return Number.isFinite(t) ? t : NaN;
}

function parseLabel(s: string): 0 | 1 | null {
  const v = s.trim().toLowerCase();
  if (['1', 'true', 'yes', 'fraud', 't', 'y'].includes(v)) return 1;
  if (['0', 'false', 'no', 'legit', 'legitimate', 'f', 'n', ''].includes(v)) return 0;
  return null;
}

const THRESHOLDS: Thresholds = { review: 60, decline: 85 };

export async function evaluateFraud(options: EvaluateOptions): Promise<EvaluationReport> {
  let text: string;
  try {
    text = readFileSync(options.file, 'utf8');
  } catch (e) {
    throw new AppError('invalid_request', `Cannot read ${options.file}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const table = parseCsv(text);
  const header = table[0];
  if (!header || table.length < 3)
    throw new AppError('invalid_request', `${options.file} needs a header row and data rows.`);
  const index = new Map(header.map((h, i) => [h.trim(), i]));
  for (const [flag, col] of [
    ['--label-col', options.labelCol],
    ['--time-col', options.timeCol],
  ] as const) {
    if (!index.has(col))
      throw new AppError(
        'invalid_request',
        `${flag} ${col} is not a column of ${options.file}; columns: ${header.join(', ')}.`,
      );
  }
  const mapping: Record<string, string | null> = {};
  for (const field of Object.keys(DEFAULT_COLUMNS) as ColumnField[]) {
    const wanted = options.columns?.[field] ?? DEFAULT_COLUMNS[field];
    if (options.columns?.[field] !== undefined && !index.has(wanted)) {
      throw new AppError(
        'invalid_request',
        `--columns ${field}=${wanted}: ${options.file} has no column ${wanted}.`,
      );
    }
    mapping[field] = index.has(wanted) ? wanted : null;
  }
  if (!mapping.amount)
    throw new AppError(
      'invalid_request',
      'The CSV needs an amount column; map it with --columns amount=COLUMN.',
    );

  type Tx = { at: number; label: 0 | 1; cells: string[] };
  const txs: Tx[] = [];
  for (let i = 1; i < table.length; i++) {
    const cells = table[i]!;
    const at = parseTime(cells[index.get(options.timeCol)!] ?? '');
    const label = parseLabel(cells[index.get(options.labelCol)!] ?? '');
    if (!Number.isFinite(at))
      throw new AppError(
        'invalid_request',
        `Row ${i + 1}: '${cells[index.get(options.timeCol)!]}' in ${options.timeCol} is not a time.`,
      );
    if (label === null)
      throw new AppError(
        'invalid_request',
        `Row ${i + 1}: ${options.labelCol} must be 1/0, true/false or yes/no.`,
      );
    txs.push({ at, label, cells });
  }
  txs.sort((a, b) => a.at - b.at);
  const get = (tx: Tx, field: ColumnField): string | undefined => {
    const col = mapping[field];
    if (!col) return undefined;
    const v = tx.cells[index.get(col)!]?.trim();
    return v === '' ? undefined : v;
  };
  const num = (tx: Tx, field: ColumnField): number | undefined => {
    const v = get(tx, field);
    if (v === undefined) return undefined;
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  };

  const dir = mkdtempSync(path.join(os.tmpdir(), 'candor-evaluate-fraud-'));
  const state = await openSqliteStateStore({ file: path.join(dir, 'state.sqlite') });
  try {
    await state.migrate(fraudMigrations);
    const pseudonymize = createPseudonymizer(randomBytes(32).toString('base64'));
    const rows: { values: Record<string, FeatureValue>; label: 0 | 1; amount: number; at: number }[] = [];
    const BATCH = 500;
    for (let start = 0; start < txs.length; start += BATCH) {
      await state.transaction(async (trx) => {
        const db = trx as Kysely<FraudTables>;
        for (const [k, tx] of txs.slice(start, start + BATCH).entries()) {
          const orderId = get(tx, 'order') ?? `row${start + k}`;
          const productId = get(tx, 'product') ?? 'item';
          const amount = Math.round(num(tx, 'amount') ?? 0);
          const quantity = num(tx, 'quantity') ?? 1;
          const unitPrice = Math.round(
            num(tx, 'unit_price') ?? (quantity !== 0 ? amount / quantity : amount),
          );
          const listPrice = num(tx, 'list_price');
          const category = get(tx, 'category');
          const currency = get(tx, 'currency') ?? 'USD';
          const addr = get(tx, 'shipping_address');
          const order: OrderInput = {
            orderId,
            amount,
            currency,
            items: [{ productId, quantity, unitPrice, category }],
            discount: num(tx, 'discount'),
            coupons: get(tx, 'coupons')?.split(/[;|]/).filter(Boolean),
            customer: {
              id: get(tx, 'customer'),
              email: get(tx, 'email'),
              accountCreatedAt: get(tx, 'account_created'),
            },
            deviceId: get(tx, 'device'),
            ip: get(tx, 'ip'),
            ipCountry: get(tx, 'ip_country'),
            billingAddress: { country: get(tx, 'billing_country') },
            shippingAddress:
              addr || get(tx, 'shipping_country')
                ? { line1: addr, country: get(tx, 'shipping_country') }
                : undefined,
            payment: {
              fingerprint: get(tx, 'card'),
              binCountry: get(tx, 'bin_country'),
              authResult:
                get(tx, 'auth') === 'declined'
                  ? 'declined'
                  : get(tx, 'auth') === 'approved'
                    ? 'approved'
                    : undefined,
              threeDs: get(tx, 'three_ds') as NonNullable<OrderInput['payment']>['threeDs'],
              avs: get(tx, 'avs') as NonNullable<OrderInput['payment']>['avs'],
              cvv: get(tx, 'cvv') as NonNullable<OrderInput['payment']>['cvv'],
            },
          };
          // The catalogue of a CSV is its list-price column, when it has one.
          const catalog = new Map<string, CatalogPrice>();
          if (listPrice !== undefined)
            catalog.set(productId, { price: Math.round(listPrice), currency, category: category ?? null });
          const keys = keysOf(order, pseudonymize, catalog);
          const history = await readHistory(db, keys, orderId, tx.at);
          const features = extractFeatures(order, history, catalog, tx.at);
          await recordAttempt(db, keys, order, tx.at, true);
          // Outcomes known later (returns, claims) feed the history of later orders, never this one's features.
          const outcome = get(tx, 'outcome');
          const at = { ts: tx.at, subject_id: keys.subjectId };
          if (
            keys.customer &&
            (outcome === 'refund' || outcome === 'chargeback' || outcome === 'not_received')
          )
            await bumpEntity(db, {
              ...at,
              key_hash: keys.customer,
              kind: 'customer',
              refunds: 1,
              refund_amount: amount,
            });
          if (keys.customer && outcome === 'return')
            await bumpEntity(db, {
              ...at,
              key_hash: keys.customer,
              kind: 'customer',
              returns: 1,
              refund_amount: amount,
            });
          if (keys.velocity.ship && outcome === 'not_received')
            await bumpEntity(db, { ...at, key_hash: keys.velocity.ship, kind: 'address', claims: 1 });
          rows.push({ values: features.values, label: tx.label, amount, at: tx.at });
        }
      });
    }
    const trainShare = options.trainShare ?? 0.7;
    const cut = Math.floor(rows.length * trainShare);
    const train = rows.slice(0, cut);
    const test = rows.slice(cut);
    const info = (part: typeof rows): PartInfo => ({
      rows: part.length,
      positives: part.filter((r) => r.label === 1).length,
      from: new Date(part[0]?.at ?? 0).toISOString(),
      to: new Date(part.at(-1)?.at ?? 0).toISOString(),
    });
    if (
      !train.some((r) => r.label === 1) ||
      !test.some((r) => r.label === 1) ||
      !test.some((r) => r.label === 0)
    ) {
      throw new AppError(
        'invalid_request',
        'Both the earlier (training) and the later (test) part need fraud and legitimate rows.',
      );
    }
    const model = trainLogistic(train);
    const rules = compileRules(DEFAULT_RULES);
    const scored = test.map((r) => {
      const p = predict(model, r.values).probability;
      const outcome = applyRules(rules, r.values);
      return {
        label: r.label,
        amount: r.amount,
        rules: rulesOnlyScore(outcome, THRESHOLDS),
        model: p,
        combined: combine(p, outcome, THRESHOLDS).score,
      };
    });
    const m = (f: (s: (typeof scored)[number]) => number) =>
      metricSet(scored.map((s) => ({ score: f(s), label: s.label })));
    return {
      file: options.file,
      rows: rows.length,
      split: { trainShare, train: info(train), test: info(test) },
      columns: mapping,
      results: {
        amountOnly: m((s) => s.amount),
        rulesOnly: m((s) => s.rules),
        modelOnly: m((s) => s.model),
        combined: m((s) => s.combined),
      },
    };
  } finally {
    await state.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
