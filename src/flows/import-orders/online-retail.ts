/**
 * The UCI Online Retail export format (InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice,
 * CustomerID, Country): invoice lines grouped into orders. Cancellations (InvoiceNo starting with C) become
 * refunds of the original order lines; rows that cannot be an order line are counted by reason, never guessed.
 */
import { readCsvRecords, type CsvRecord } from './csv.ts';

export const ONLINE_RETAIL_COLUMNS = [
  'InvoiceNo',
  'StockCode',
  'Description',
  'Quantity',
  'InvoiceDate',
  'UnitPrice',
  'CustomerID',
  'Country',
] as const;

export type ImportedOrderItem = {
  productId: string;
  title: string;
  quantity: number;
  /** Unit price in minor units (pence, cents). */
  unitPrice: number;
};

export type ImportedOrder = {
  orderId: string;
  /** The shop's customer id; absent for guest orders. */
  customerId: string | undefined;
  ts: number;
  currency: string;
  country: string;
  items: ImportedOrderItem[];
  /** Sum of quantity × unit price over the items, minor units. Negative for refunds. */
  revenue: number;
  kind: 'order' | 'refund';
};

export type RowRejection =
  | 'field_count'
  | 'missing_invoice'
  | 'invalid_quantity'
  | 'invalid_price'
  | 'invalid_date'
  | 'non_product_code';

/** Codes in this export that are fees or adjustments, not products (postage, manual, bank charges …). */
const NON_PRODUCT = /^(POST|DOT|M|BANK CHARGES|PADS|C2|CRUK|AMAZONFEE|S|B|D|gift_.*)$/i;

function parseDate(s: string): number | undefined {
  // `YYYY-MM-DD HH:MM:SS` (this copy) or `M/D/YYYY H:MM` (the UCI spreadsheet export).
  let m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(s.trim());
  if (m) return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +(m[6] ?? 0));
  m = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2})$/.exec(s.trim());
  if (m) return Date.UTC(+m[3]!, +m[1]! - 1, +m[2]!, +m[4]!, +m[5]!);
  return undefined;
}

type Line = {
  invoice: string;
  item: ImportedOrderItem;
  ts: number;
  customerId: string | undefined;
  country: string;
};

export function parseOnlineRetailRow(
  r: CsvRecord,
): { ok: true; line: Line } | { ok: false; reason: RowRejection } {
  const invoice = (r.InvoiceNo ?? '').trim();
  if (!invoice) return { ok: false, reason: 'missing_invoice' };
  const code = (r.StockCode ?? '').trim();
  if (!code || NON_PRODUCT.test(code)) return { ok: false, reason: 'non_product_code' };
  const quantity = Number(r.Quantity);
  if (!Number.isInteger(quantity) || quantity === 0) return { ok: false, reason: 'invalid_quantity' };
  const price = Number(r.UnitPrice);
  if (!Number.isFinite(price) || price <= 0) return { ok: false, reason: 'invalid_price' };
  const ts = parseDate(r.InvoiceDate ?? '');
  if (ts === undefined) return { ok: false, reason: 'invalid_date' };
  const rawCustomer = (r.CustomerID ?? '').trim();
  const customerId = rawCustomer ? String(Math.trunc(Number(rawCustomer))) : undefined;
  return {
    ok: true,
    line: {
      invoice,
      ts,
      customerId: customerId && customerId !== 'NaN' ? customerId : undefined,
      country: (r.Country ?? '').trim(),
      item: {
        productId: code,
        title: (r.Description ?? '').trim(),
        quantity,
        unitPrice: Math.round(price * 100),
      },
    },
  };
}

export type ImportProgress = {
  rowsRead: number;
  orders: number;
  rejected: Partial<Record<RowRejection, number>>;
};

/**
 * Streams orders out of an Online Retail file. Lines of one invoice are contiguous in the export; an invoice
 * that reappears later is still merged correctly because orders are emitted only when the invoice changes.
 */
export async function* readOnlineRetailOrders(
  file: string,
  progress: ImportProgress = { rowsRead: 0, orders: 0, rejected: {} },
  currency = 'GBP',
): AsyncGenerator<ImportedOrder> {
  let current: ImportedOrder | undefined;
  const finish = (o: ImportedOrder): ImportedOrder => {
    o.revenue = o.items.reduce((s, i) => s + i.quantity * i.unitPrice, 0);
    progress.orders++;
    return o;
  };
  for await (const rec of readCsvRecords(file)) {
    progress.rowsRead++;
    if ('error' in rec) {
      progress.rejected.field_count = (progress.rejected.field_count ?? 0) + 1;
      continue;
    }
    const parsed = parseOnlineRetailRow(rec.record);
    if (!parsed.ok) {
      progress.rejected[parsed.reason] = (progress.rejected[parsed.reason] ?? 0) + 1;
      continue;
    }
    const { line } = parsed;
    if (!current || current.orderId !== line.invoice) {
      if (current) yield finish(current);
      current = {
        orderId: line.invoice,
        customerId: line.customerId,
        ts: line.ts,
        currency,
        country: line.country,
        items: [],
        revenue: 0,
        kind: line.invoice.startsWith('C') ? 'refund' : 'order',
      };
    }
    current.items.push(line.item);
  }
  if (current) yield finish(current);
}
