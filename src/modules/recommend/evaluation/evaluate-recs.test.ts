import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../../../storage/testing.ts';
import { seededRandom } from '../algorithms/metrics.ts';
import { parseColumns, splitLine, parseTime } from './load-interactions.ts';
import { runEvaluation } from './run-evaluation.ts';
import { splitEvents } from './evaluate-recs.ts';

const dir = makeTempDir('candor-recs-eval');
afterAll(() => dir.cleanup());

/**
 * A small shop: 4 taste groups of 10 items; each shopper mostly buys within their group. A model that
 * learns co-occurrence must beat popularity here.
 */
function syntheticShop(): string {
  const rnd = seededRandom(7);
  const lines = ['customer;sku;when;kind'];
  for (let u = 0; u < 120; u++) {
    const group = u % 4;
    for (let e = 0; e < 12; e++) {
      const item = rnd() < 0.85 ? group * 10 + Math.floor(rnd() * 10) : Math.floor(rnd() * 40);
      const day = Math.floor(rnd() * 60) + 1;
      lines.push(
        `c${u};"SKU ${item}";2024-01-01 00:00:00;${e % 3 === 0 ? 'purchase' : 'view'}`.replace(
          '2024-01-01',
          new Date(Date.UTC(2024, 0, day)).toISOString().slice(0, 10),
        ),
      );
    }
  }
  const file = path.join(dir.path, 'shop.csv.gz');
  writeFileSync(file, gzipSync(lines.join('\n') + '\n'));
  return file;
}

describe('candor evaluate recs (harness)', () => {
  const file = syntheticShop();
  const columns = parseColumns('user=customer,item=sku,time=when,type=kind');

  it('reads quoted fields and several time formats', () => {
    expect(splitLine('a,"b, ""c""",d', ',')).toEqual(['a', 'b, "c"', 'd']);
    expect(parseTime('1396860669.277')).toBe(1396860669277);
    expect(parseTime('2011-12-09 12:50:00')).toBe(Date.UTC(2011, 11, 9, 12, 50));
  });

  it('explains a bad --columns spec', () => {
    expect(() => parseColumns('user=a,colour=b')).toThrow(/ROLE=COLUMN/);
    expect(() => parseColumns('user=a')).toThrow(/item=COLUMN/);
  });

  it('splits per user 75/25 (stratified) and by time (temporal)', () => {
    const events = Array.from({ length: 8 }, (_, i) => ({
      user: i < 4 ? 'a' : 'b',
      item: `i${i}`,
      time: i,
      session: null,
      weight: 1,
      title: null,
    }));
    const s = splitEvents(events, 'top-n', { protocol: 'stratified', testFraction: 0.25 });
    expect(s.test.filter((e) => e.user === 'a')).toHaveLength(1);
    expect(s.test.filter((e) => e.user === 'b')).toHaveLength(1);
    const t = splitEvents(events, 'top-n', { protocol: 'temporal', testFraction: 0.25 });
    expect(t.test.map((e) => e.time)).toEqual([6, 7]);
    const l = splitEvents(events, 'top-n', { protocol: 'leave-last-out', testFraction: 0.1 });
    expect(l.test.map((e) => e.time)).toEqual([3, 7]);
  });

  it('reports every metric per algorithm and k, and learned models beat popularity', async () => {
    const report = await runEvaluation({
      interactions: file,
      columns,
      protocol: 'stratified',
      testFraction: 0.25,
      task: 'top-n',
      ks: [5, 10],
      algorithms: ['popularity', 'item-knn', 'ease'],
      tune: true,
    });
    expect(report.results.map((r) => r.algorithm)).toEqual(['popularity', 'item-knn', 'ease']);
    expect(report.tuning?.lambda).toBeGreaterThan(0);
    for (const r of report.results) {
      expect(Object.keys(r.atK)).toEqual(['5', '10']);
      expect(r.atK['10']).toEqual(
        expect.objectContaining({
          precision: expect.any(Number),
          recall: expect.any(Number),
          ndcg: expect.any(Number),
          hr: expect.any(Number),
          mrr: expect.any(Number),
          coverage: expect.any(Number),
          diversity: expect.any(Number),
          novelty: expect.any(Number),
          meanPopularity: expect.any(Number),
        }),
      );
      expect(r.trainSeconds).toBeGreaterThanOrEqual(0);
    }
    const ndcg = (name: string) => report.results.find((r) => r.algorithm === name)!.atK['10']!.ndcg;
    expect(ndcg('ease')).toBeGreaterThan(ndcg('popularity') + 0.05);
    expect(ndcg('item-knn')).toBeGreaterThan(ndcg('popularity') + 0.05);
  });

  it('reports the accuracy/diversity trade-off of MMR re-ranking', async () => {
    const report = await runEvaluation({
      interactions: file,
      columns,
      protocol: 'stratified',
      testFraction: 0.25,
      task: 'top-n',
      ks: [10],
      algorithms: ['item-knn'],
      diversityLambdas: [0.2],
    });
    const [plain, mmr] = report.results;
    expect(plain!.params.mmrLambda).toBeUndefined();
    expect(mmr!.params.mmrLambda).toBe(0.2);
    expect(mmr!.atK['10']!.diversity).toBeGreaterThan(plain!.atK['10']!.diversity);
  });

  it('evaluates next-item on predefined train/test files', async () => {
    const train = path.join(dir.path, 'train.tsv');
    const test = path.join(dir.path, 'test.tsv');
    const rows = (from: number, to: number) => {
      const out = ['SessionId\tItemId\tTime'];
      for (let s = from; s < to; s++)
        [1, 2, 3].forEach((p) => out.push(`${s}\t${s % 2 === 0 ? p : p + 10}\t${s * 10 + p}`));
      return out.join('\n') + '\n';
    };
    writeFileSync(train, rows(0, 40));
    writeFileSync(test, rows(40, 50));
    const report = await runEvaluation({
      train,
      test,
      columns: parseColumns('session=SessionId,item=ItemId,time=Time'),
      task: 'next-item',
      ks: [1, 20],
      algorithms: ['vsknn', 'sequential-rules'],
    });
    expect(report.dataset.requests).toBe(20);
    for (const r of report.results) expect(r.atK['20']!.hr).toBe(1);
    // Rules follow the last click exactly; V-SKNN also re-recommends the session's own items (remind).
    expect(report.results.find((r) => r.algorithm === 'sequential-rules')!.atK['1']!.hr).toBe(1);
  });

  it('says which column is missing', async () => {
    await expect(
      runEvaluation({
        interactions: file,
        columns: parseColumns('user=customer,item=product'),
        protocol: 'random',
        testFraction: 0.2,
        task: 'top-n',
        ks: [10],
      }),
    ).rejects.toMatchObject({
      code: 'invalid_request',
      message: expect.stringContaining('no column "product"'),
    });
  });
});
