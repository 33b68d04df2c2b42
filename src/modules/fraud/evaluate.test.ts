import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasCode } from '../../kernel/errors.ts';
import { makeTempDir } from '../../storage/testing.ts';
import { evaluateFraud, parseColumnMap, parseCsv } from './evaluate.ts';
import { generateScenario, scenarioToCsv } from './scenario.ts';

const dir = makeTempDir('candor-fraud-eval');
afterAll(() => dir.cleanup());

describe('candor evaluate fraud', () => {
  it('parses RFC 4180 CSV and column maps', () => {
    expect(parseCsv('a,b\r\n"x, ""y""",2\n\n3,\n')).toEqual([
      ['a', 'b'],
      ['x, "y"', '2'],
      ['3', ''],
    ]);
    expect(parseColumnMap('amount=price, email=email_address')).toEqual({
      amount: 'price',
      email: 'email_address',
    });
    expect(() => parseColumnMap('amout=price')).toThrow(/unknown field 'amout'/);
    expect(() => parseColumnMap('amount')).toThrow(/field=column/);
  });

  it('the synthetic scenario holds every attack pattern and is deterministic', () => {
    const a = generateScenario({ seed: 7, customers: 150, days: 20 });
    expect(scenarioToCsv(a)).toBe(scenarioToCsv(generateScenario({ seed: 7, customers: 150, days: 20 })));
    const patterns = new Set(a.map((r) => r.pattern));
    expect([...patterns].sort()).toEqual([
      'account_takeover',
      'card_testing',
      'legitimate',
      'price_tampering',
      'refund_abuse',
      'triangulation',
    ]);
  });

  it('splits by time and reports the four scorers, with renamed columns mapped', async () => {
    const rows = generateScenario({ seed: 3, customers: 150, days: 20 });
    // Rename two columns as a shop's export might, and shuffle rows: the evaluation sorts by time itself.
    const csv = scenarioToCsv([...rows].reverse()).replace(/^(.*)$/m, (h) =>
      h.replace('amount', 'price').replace('is_fraud', 'chargeback'),
    );
    const file = path.join(dir.path, 'tx.csv');
    writeFileSync(file, csv);
    const report = await evaluateFraud({
      file,
      labelCol: 'chargeback',
      timeCol: 'ts',
      columns: { amount: 'price' },
    });
    expect(report.rows).toBe(rows.length);
    expect(report.split.train.rows).toBe(Math.floor(rows.length * 0.7));
    expect(report.split.train.to <= report.split.test.from).toBe(true);
    expect(report.columns.amount).toBe('price');
    for (const m of Object.values(report.results)) {
      for (const v of Object.values(m)) expect(v).toBeGreaterThanOrEqual(0);
    }
    // On this scenario the features carry real signal; the amount alone does not.
    expect(report.results.combined.rocAuc).toBeGreaterThan(0.85);
    expect(report.results.combined.prAuc).toBeGreaterThan(report.results.amountOnly.prAuc);
  });

  it('says what is wrong with the file or the flags', async () => {
    const file = path.join(dir.path, 'bad.csv');
    writeFileSync(file, 'ts,amount,label\n2025-01-01T00:00:00Z,100,1\nnot-a-time,5,0\n');
    await expect(evaluateFraud({ file, labelCol: 'label', timeCol: 'ts' })).rejects.toThrow(
      /Row 3: 'not-a-time'/,
    );
    await expect(evaluateFraud({ file, labelCol: 'fraud', timeCol: 'ts' })).rejects.toThrow(
      /--label-col fraud is not a column/,
    );
    await expect(
      evaluateFraud({ file, labelCol: 'label', timeCol: 'ts', columns: { email: 'mail' } }),
    ).rejects.toThrow(/no column mail/);
    const err = await evaluateFraud({
      file: path.join(dir.path, 'missing.csv'),
      labelCol: 'l',
      timeCol: 't',
    }).catch((e: unknown) => e);
    expect(hasCode(err, 'invalid_request')).toBe(true);
  });
});
