import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../../storage/testing.ts';
import { buildProgram } from '../program.ts';

describe('candor evaluate sentiment', () => {
  const dir = makeTempDir('candor-eval-sentiment');
  afterAll(() => dir.cleanup());

  const run = async (args: string[]) => {
    const out: string[] = [];
    const program = buildProgram({ out: (t) => out.push(t), say: () => {} });
    program.exitOverride();
    await program.parseAsync(['node', 'candor', ...args]);
    return out.join('');
  };

  it('trains on one file and prints accuracy and macro-F1 overall and per language as one JSON document', async () => {
    const train = path.join(dir.path, 'train.csv');
    const test = path.join(dir.path, 'test.tsv');
    const rows = [
      'text,label,lang',
      ...Array.from({ length: 5 }, () => [
        'lovely and sturdy,positive,en',
        'broken and useless,negative,en',
        'bagus dan rapi,positive,id',
        'rusak dan kotor,negative,id',
        '很好很满意,positive,zh',
        '很差很失望,negative,zh',
      ]).flat(),
    ];
    writeFileSync(train, `${rows.join('\n')}\n`);
    writeFileSync(
      test,
      'text\tlabel\nsturdy and lovely\tpositive\nuseless\tnegative\nrapi sekali\tpositive\n很失望\tnegative\n滿意\tpositive\n',
    );
    const report = JSON.parse(
      await run(['evaluate', 'sentiment', '--train', train, '--test', test, '--json']),
    ) as {
      train: { examples: number; labels: string[] };
      overall: { examples: number; accuracy: number; macroF1: number };
      perLanguage: Record<string, { examples: number }>;
    };
    expect(report.train).toEqual({ examples: 30, labels: ['negative', 'positive'] });
    expect(report.overall).toMatchObject({ examples: 5, accuracy: 1, macroF1: 1 });
    // No lang column in the test file: detected (Traditional 滿意 counts as Chinese).
    expect(Object.fromEntries(Object.entries(report.perLanguage).map(([k, v]) => [k, v.examples]))).toEqual({
      en: 2,
      id: 1,
      zh: 2,
    });
  });

  it('names the line and the allowed labels when a label is wrong', async () => {
    const bad = path.join(dir.path, 'bad.csv');
    writeFileSync(bad, 'text,label\ngood,positive\nmeh,so-so\n');
    await expect(run(['evaluate', 'sentiment', '--train', bad, '--test', bad, '--json'])).rejects.toThrow(
      /line 3: label 'so-so' is not one of negative, neutral, positive/,
    );
  });
});
