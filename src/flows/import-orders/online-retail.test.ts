import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { readCsvRows } from './csv.ts';
import { readOnlineRetailOrders, type ImportProgress } from './online-retail.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'candor-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HEADER = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country';
const ROWS = [
  '536365,85123A,"WHITE HANGING HEART T-LIGHT HOLDER",6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom',
  '536365,71053,"WHITE METAL LANTERN, ""LARGE""",6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom',
  '536366,22633,HAND WARMER UNION JACK,6,2010-12-01 08:28:00,1.85,,United Kingdom',
  '536367,POST,POSTAGE,1,2010-12-01 08:34:00,18.00,13047.0,France',
  'C536379,22556,PLASTERS IN TIN,-12,2010-12-01 09:41:00,1.65,14527.0,United Kingdom',
  '536380,22961,JAM MAKING SET,abc,2010-12-01 09:41:00,1.45,14527.0,United Kingdom',
  '536381,22961,JAM MAKING SET,3,not a date,1.45,14527.0,United Kingdom',
  '536382,22962,BROKEN ROW,3',
];

function write(name: string, text: string, gz = false): string {
  const file = path.join(dir, name);
  writeFileSync(file, gz ? gzipSync(text) : text);
  return file;
}

describe('CSV reader', () => {
  it('handles quotes, doubled quotes, separators and newlines inside quotes, CRLF', async () => {
    const file = write('q.csv', 'a,b\r\n"x, ""y""","multi\nline"\r\nplain,last');
    const rows: string[][] = [];
    for await (const r of readCsvRows(file)) rows.push(r);
    expect(rows).toEqual([
      ['a', 'b'],
      ['x, "y"', 'multi\nline'],
      ['plain', 'last'],
    ]);
  });
});

describe('Online Retail import', () => {
  for (const gz of [false, true]) {
    it(`groups invoice lines into orders and counts rejected rows (${gz ? 'gzipped' : 'plain'})`, async () => {
      const file = write(`or${gz ? '.csv.gz' : '.csv'}`, [HEADER, ...ROWS].join('\n') + '\n', gz);
      const progress: ImportProgress = { rowsRead: 0, orders: 0, rejected: {} };
      const orders = [];
      for await (const o of readOnlineRetailOrders(file, progress)) orders.push(o);
      expect(orders.map((o) => o.orderId)).toEqual(['536365', '536366', 'C536379']);
      const first = orders[0]!;
      expect(first.customerId).toBe('17850');
      expect(first.items).toHaveLength(2);
      expect(first.items[1]!.title).toBe('WHITE METAL LANTERN, "LARGE"');
      expect(first.revenue).toBe(6 * 255 + 6 * 339);
      expect(first.ts).toBe(Date.UTC(2010, 11, 1, 8, 26));
      expect(orders[1]!.customerId).toBeUndefined();
      expect(orders[2]!.kind).toBe('refund');
      expect(orders[2]!.revenue).toBe(-12 * 165);
      expect(progress).toEqual({
        rowsRead: 8,
        orders: 3,
        rejected: { non_product_code: 1, invalid_quantity: 1, invalid_date: 1, field_count: 1 },
      });
    });
  }
});
