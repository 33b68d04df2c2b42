import { describe, expect, it } from 'vitest';
import { shopTrainingExamples } from '../dialogue/intents.ts';
import { OOS, decide, trainIntentModel } from './classifier.ts';
import { detectSecrets, extractEntities, redact } from './entities.ts';
import { carveValidation, evaluateNlu, parseDelimited, tuneThresholds } from './evaluate.ts';
import { detectLanguage, prepare } from './text.ts';

describe('language identification and normalisation', () => {
  it('tells the four shop languages apart', () => {
    expect(detectLanguage('where is my order?')).toBe('en');
    expect(detectLanguage('pesanan saya belum sampai kak')).toBe('id');
    expect(detectLanguage('我的订单在哪里')).toBe('zh-Hans');
    expect(detectLanguage('我的訂單在哪裡')).toBe('zh-Hant');
    expect(detectLanguage('Где мой заказ?')).toBe('other');
  });
  it('folds Traditional into Simplified and segments Chinese into words', () => {
    const p = prepare('我的訂單在哪裡');
    expect(p.normalized).toBe('我的订单在哪里');
    expect(p.tokens).toContain('订单');
  });
});

describe('intent classifier', () => {
  const model = trainIntentModel(shopTrainingExamples(), { epochs: 30, seed: 11 });
  model.thresholds = { confidence: 0.3, margin: 0.05 };
  it.each([
    ['where is my package', 'order_status'],
    ['di mana pesanan saya', 'order_status'],
    ['我要退货退款', 'returns_refunds'],
    ['我要退貨', 'returns_refunds'],
    ['i want to talk to a human', 'human_agent'],
    ['hapus semua data saya', 'privacy_delete'],
  ])('%s → %s', (text, intent) => {
    expect(model.classify(text).intent).toBe(intent);
  });
  it('ranks candidates best first', () => {
    const ranked = model.rank('cancel my order please');
    expect(ranked[0]!.intent).toBe('cancel_order');
    for (let i = 1; i < ranked.length; i++)
      expect(ranked[i - 1]!.confidence).toBeGreaterThanOrEqual(ranked[i]!.confidence);
  });
  it('sends out-of-scope messages to the fallback', () => {
    expect(model.classify('what is the capital of france').intent).toBeNull();
  });
});

describe('threshold tuning', () => {
  it('meets the OOS recall target on validation when it can', () => {
    const ranked = [
      ...Array.from({ length: 10 }, () => ({
        label: 'a',
        ranked: [
          { intent: 'a', confidence: 0.9 },
          { intent: 'b', confidence: 0.1 },
        ],
      })),
      ...Array.from({ length: 10 }, () => ({
        label: OOS,
        ranked: [
          { intent: 'a', confidence: 0.4 },
          { intent: 'b', confidence: 0.35 },
        ],
      })),
    ];
    const t = tuneThresholds(ranked);
    expect(decide(ranked[0]!.ranked, t).intent).toBe('a');
    expect(decide(ranked[10]!.ranked, t).intent).toBeNull();
  });
  it('carves validation per label from train and evaluates on what the files contain', () => {
    const data = shopTrainingExamples();
    const { train, valid } = carveValidation(data, 0.2, 1);
    expect(train.length + valid.length).toBe(data.length);
    const report = evaluateNlu({ train, test: valid }, { epochs: 10 });
    expect(report.intents).toBe(16);
    expect(report.top1Accuracy).toBeGreaterThan(0.6);
    expect(report.oosRecall).not.toBeNull();
    expect(Object.keys(report.perLanguage)).toEqual(expect.arrayContaining(['en', 'id', 'zh-Hans']));
  });
  it('parses quoted CSV fields', () => {
    expect(parseDelimited('text,label\n"a, ""b""",x\n', ',')).toEqual([
      ['text', 'label'],
      ['a, "b"', 'x'],
    ]);
  });
});

describe('entities and redaction', () => {
  it('extracts order ids, emails, phones, amounts, dates and products', () => {
    const e = extractEntities(
      'order ORD-12345, mail me at Ana@Example.com or +62 812 3456 7890, paid Rp 150.000 on 2024-05-01 for the Blue Kettle',
      [{ id: 'p1', titles: ['Blue Kettle'] }],
    );
    expect(e).toEqual(
      expect.arrayContaining([
        { type: 'order_id', value: 'ORD-12345' },
        { type: 'email', value: 'ana@example.com' },
        { type: 'amount', value: 150000, currency: 'IDR' },
        { type: 'date', value: '2024-05-01' },
        { type: 'product', value: 'p1', title: 'Blue Kettle' },
      ]),
    );
    expect(e.some((x) => x.type === 'phone')).toBe(true);
  });
  it('redacts cards, passwords, codes, emails and phones and flags the secrets', () => {
    const text =
      'my card 4111 1111 1111 1111, password is hunter2, OTP 123456, ana@example.com, +62 812 3456 7890';
    expect(detectSecrets(text).sort()).toEqual(['card_number', 'otp', 'password']);
    const r = redact(text);
    for (const secret of ['4111', 'hunter2', '123456', 'ana@example.com', '3456 7890'])
      expect(r).not.toContain(secret);
  });
});
