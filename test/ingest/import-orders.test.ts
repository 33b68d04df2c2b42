import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importOrdersInto } from '../../src/cli/import.command.ts';
import { startHarness, type Harness } from './harness.ts';

const HEADER = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country';
const day = (d: number) => new Date(Date.UTC(2011, 0, d, 10, 0)).toISOString().slice(0, 19).replace('T', ' ');

/** A small Online Retail export: two customers, a guest, a cancellation, a fee line and a broken row. */
function csv(): string {
  return [
    HEADER,
    `536365,85123A,WHITE HANGING HEART,6,${day(3)},2.55,17850.0,United Kingdom`,
    `536365,71053,"WHITE METAL LANTERN, ""LARGE""",2,${day(3)},3.39,17850.0,United Kingdom`,
    `536366,22633,HAND WARMER,6,${day(4)},1.85,,United Kingdom`,
    `536367,22961,JAM MAKING SET,3,${day(5)},1.45,13047.0,France`,
    `536367,POST,POSTAGE,1,${day(5)},18.00,13047.0,France`,
    `C536368,22556,PLASTERS IN TIN,-12,${day(6)},1.65,17850.0,United Kingdom`,
    `536369,22962,JAM JAR,4,${day(7)},0,17850.0,United Kingdom`,
    `536370,22963,BROKEN ROW,3`,
    `536371,22964,LUNCH BAG,10,${day(8)},1.65,17850.0,United Kingdom`,
  ].join('\n');
}

describe('candor import orders --format online-retail', () => {
  let h: Harness;
  let file: string;
  beforeAll(async () => {
    h = await startHarness({ inMemoryDisk: true });
    file = path.join(h.dataDir, 'orders.csv.gz');
    writeFileSync(file, gzipSync(csv()));
  });
  afterAll(() => h?.close());

  it('imports orders as necessary without consent, records the import decision, and reports the summary', async () => {
    const r = await importOrdersInto(h.candor, { file, format: 'online-retail', consent: [] });
    expect(r.rowsRead).toBe(9);
    expect(r.rowsRejected).toMatchObject({ non_product_code: 1, invalid_price: 1, field_count: 1 });
    expect(r).toMatchObject({ orders: 4, accepted: 4, refundsSkipped: 1, customers: 2, consentRecorded: 2 });
    const rows = await h.candor.stores.events.db
      .selectFrom('events')
      .select(['order_id', 'purpose', 'consent_id', 'revenue', 'ts'])
      .where('type', '=', 'order_completed')
      .orderBy('order_id')
      .execute();
    expect(rows.map((x) => x.order_id)).toEqual(['536365', '536366', '536367', '536371']);
    expect(rows.every((x) => x.purpose === 'necessary' && x.consent_id === null)).toBe(true);
    expect(Number(rows[0]!.revenue)).toBeCloseTo(6 * 2.55 + 2 * 3.39, 5);
    // The ledger says what the import stated: nothing beyond necessary, method import.
    const ledger = await h.consent.service.history([
      (await import('../../src/modules/consent/index.ts')).subjectIdsFor(
        (await import('../../src/kernel/crypto.ts')).createPseudonymizer(
          h.candor.config.secrets.pseudonymKey!,
        ),
        { userId: '17850' },
      )[0]!,
    ]);
    expect(ledger.records).toHaveLength(1);
    expect(ledger.records[0]).toMatchObject({ method: 'import' });
    expect(ledger.current.analytics.granted).toBe(false);
  });

  it('importing the same file again stores nothing twice and keeps customers’ existing decisions', async () => {
    const before = await h.candor.stores.events.count();
    const r = await importOrdersInto(h.candor, { file, format: 'online-retail', consent: ['analytics'] });
    expect(r.consentRecorded).toBe(0);
    expect(await h.candor.stores.events.count()).toBe(before);
  });
});

describe('import with stated analytics consent', () => {
  let h: Harness;
  afterAll(() => h?.close());
  it('labels the customers’ orders analytics with the import decision, guests stay necessary', async () => {
    h = await startHarness({ inMemoryDisk: true });
    const file = path.join(h.dataDir, 'orders.csv');
    writeFileSync(file, csv());
    const r = await importOrdersInto(h.candor, { file, format: 'online-retail', consent: ['analytics'] });
    expect(r.accepted).toBe(4);
    const rows = await h.candor.stores.events.db
      .selectFrom('events')
      .select(['order_id', 'purpose', 'consent_id'])
      .orderBy('order_id')
      .execute();
    expect(rows.map((x) => [x.order_id, x.purpose])).toEqual([
      ['536365', 'analytics'],
      ['536366', 'necessary'],
      ['536367', 'analytics'],
      ['536371', 'analytics'],
    ]);
    expect(rows.filter((x) => x.purpose === 'analytics').every((x) => x.consent_id !== null)).toBe(true);
  });
});
