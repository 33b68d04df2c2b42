import { describe, expect, it } from 'vitest';
import { defaultSentimentModel } from './default-model.ts';
import { evaluateSentiment, metrics, parseLabelled } from './evaluate.ts';
import { trainSentimentModel } from './model.ts';
import { detectLanguage, featureStrings } from './text.ts';
import { aspectCandidates, topAspects } from './aspects.ts';

// Short shop comments written for this test (none appears in the built-in set verbatim).
const SHORT: [string, 'positive' | 'negative' | 'neutral'][] = [
  ['Great shoes, very comfortable and the delivery was fast!', 'positive'],
  ['Terrible quality, the zipper broke after two days.', 'negative'],
  ['It does not work, asked for a refund', 'negative'],
  ['The package arrived on Tuesday.', 'neutral'],
  ['not good at all', 'negative'],
  ['Barangnya bagus banget, pengiriman cepat', 'positive'],
  ['Kecewa, barang rusak dan penjual tidak ramah', 'negative'],
  ['Saya pesan warna hitam', 'neutral'],
  ['质量很好，物流也快，很满意', 'positive'],
  ['太差了，用了一天就坏了', 'negative'],
  ['昨天下单的', 'neutral'],
  ['質量很好，物流也快，很滿意', 'positive'],
  ['太差了，用了一天就壞了', 'negative'],
];

describe('sentiment', () => {
  it('the shipped model reads short reviews in English, Indonesian and Chinese in both scripts', () => {
    const model = defaultSentimentModel();
    const wrong = SHORT.filter(([t, l]) => model.score(t).label !== l);
    expect(wrong).toEqual([]);
  });

  it('Traditional Chinese is read as Simplified: the same features, the same score', () => {
    expect(featureStrings('質量很好，很滿意')).toEqual(featureStrings('质量很好，很满意'));
    const m = defaultSentimentModel();
    expect(m.score('服務態度很差').probabilities).toEqual(m.score('服务态度很差').probabilities);
  });

  it('detects the language of a review', () => {
    expect(detectLanguage('Kualitas barangnya sangat bagus dan pengiriman cepat')).toBe('id');
    expect(detectLanguage('The quality is great and it was delivered fast')).toBe('en');
    expect(detectLanguage('质量不错 good')).toBe('zh');
  });

  it('learns from labelled examples and only predicts the labels it saw', () => {
    const data = [
      ...['lovely', 'superb fit', 'happy with it', 'works nicely'].map((text) => ({
        text,
        label: 'positive' as const,
      })),
      ...['awful', 'fell apart', 'never again', 'refund please'].map((text) => ({
        text,
        label: 'negative' as const,
      })),
    ];
    const model = trainSentimentModel([...data, ...data, ...data], { bits: 12, epochs: 20 });
    expect(model.labels).toEqual(['negative', 'positive']);
    expect(model.score('superb, lovely').label).toBe('positive');
    expect(model.score('awful, fell apart').label).toBe('negative');
    expect(model.score('anything').probabilities.neutral).toBe(0);
  });

  it('computes accuracy and macro-F1', () => {
    const m = metrics([
      { truth: 'positive', predicted: 'positive' },
      { truth: 'positive', predicted: 'negative' },
      { truth: 'negative', predicted: 'negative' },
      { truth: 'negative', predicted: 'negative' },
    ]);
    expect(m.accuracy).toBe(0.75);
    // positive: P 1, R 0.5, F1 2/3; negative: P 2/3, R 1, F1 0.8 → mean 0.7333
    expect(m.macroF1).toBe(0.7333);
  });

  it('parses CSV and TSV with a header, quoted fields and an optional lang column, and rejects bad labels', () => {
    const csv = parseLabelled('text,label,lang\n"Good, really",positive,en\nbagus,positive,\n', 'a.csv');
    expect(csv).toEqual([
      { text: 'Good, really', label: 'positive', lang: 'en' },
      { text: 'bagus', label: 'positive', lang: 'id' },
    ]);
    const tsv = parseLabelled('text\tlabel\njelek sekali barangnya\tnegative\n', 'a.tsv');
    expect(tsv[0]).toEqual({ text: 'jelek sekali barangnya', label: 'negative', lang: 'id' });
    expect(() => parseLabelled('text,label\nx,great\n', 'b.csv')).toThrow(/line 2: label 'great'/);
    expect(() => parseLabelled('review,stars\nx,1\n', 'c.csv')).toThrow(/header/);
  });

  it('reports overall and per-language figures', () => {
    const rows = (lang: string, pos: string, neg: string) => [
      { text: pos, label: 'positive' as const, lang },
      { text: neg, label: 'negative' as const, lang },
    ];
    const train = [...rows('en', 'good', 'bad'), ...rows('id', 'bagus', 'jelek')];
    const report = evaluateSentiment([...train, ...train, ...train], train, { bits: 10, epochs: 20 });
    expect(report.overall.accuracy).toBe(1);
    expect(Object.keys(report.perLanguage)).toEqual(['en', 'id']);
    expect(report.perLanguage.id?.examples).toBe(2);
  });

  it('finds the aspects positive and negative reviews talk about', () => {
    expect(aspectCandidates('The battery life is short')).toEqual([
      'battery',
      'battery life',
      'life',
      'short',
    ]);
    const reviews = [
      { text: 'battery life is superb', label: 'positive' as const },
      { text: 'love the battery life', label: 'positive' as const },
      { text: 'screen cracked, battery life fine', label: 'negative' as const },
      { text: 'the screen cracked again', label: 'negative' as const },
      { text: 'screen cracked on arrival', label: 'negative' as const },
    ];
    const a = topAspects(reviews, 3);
    expect(a.positive[0]?.aspect).toBe('battery life');
    expect(a.negative.map((x) => x.aspect)).toContain('screen cracked');
  });
});
