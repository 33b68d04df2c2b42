import * as OpenCC from 'opencc-js';
import * as OpenCCPreset from 'opencc-js/preset';
import { describe, expect, it } from 'vitest';
import { converterOf, toSimplifiedChinese, toTraditionalChinese } from './chinese-script.ts';

type Convert = (text: string) => string;
const opencc = OpenCC as unknown as { Converter(o: { from: string; to: string }): Convert };
const configs = (
  OpenCCPreset as unknown as {
    configs: Record<
      string,
      { segmentation?: string | string[]; conversionChain: string[][]; normalizationChain?: string[][] }
    >;
  }
).configs;

/** Every key of the dictionaries a configuration reads. */
function keysOf(name: string): string[] {
  const c = configs[name]!;
  const dicts = [
    ...(c.normalizationChain ?? []).flat(),
    ...(c.segmentation === undefined ? [] : [c.segmentation].flat()),
    ...c.conversionChain.flat(),
  ];
  return [...new Set(dicts.flatMap((d) => d.split('|').map((line) => line.split(' ')[0]!)))];
}

/** A small deterministic generator, so a failure names a reproducible input. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Texts made of dictionary keys back to back (phrases overlapping at their edges), Latin, digits and marks. */
function mixedTexts(keys: readonly string[], count: number, seed: number): string[] {
  const next = random(seed);
  // Ideographic description sequences hold characters a table would convert outside them.
  const fillers = [
    ' ',
    'abc',
    '123',
    '，',
    '。',
    '?',
    '⿰後來',
    '⿱⿰头发发',
    '⿰发',
    '𠵾',
    '\uD800',
    'é',
    '\n',
  ];
  return Array.from({ length: count }, () => {
    let t = '';
    const n = 1 + Math.floor(next() * 12);
    for (let i = 0; i < n; i++) {
      const r = next();
      if (r < 0.75) t += keys[Math.floor(next() * keys.length)];
      else if (r < 0.9) t += fillers[Math.floor(next() * fillers.length)];
      else {
        // A key cut short: its prefix, as a trie walk meets it before the key ends.
        const k = keys[Math.floor(next() * keys.length)]!;
        t += k.slice(0, Math.max(1, k.length - 1));
      }
    }
    return t;
  });
}

describe('Chinese script conversion', () => {
  const cases = [
    { name: 'tw2s', ours: toSimplifiedChinese, theirs: opencc.Converter({ from: 'tw', to: 'cn' }) },
    { name: 's2tw', ours: toTraditionalChinese, theirs: opencc.Converter({ from: 'cn', to: 'tw' }) },
  ];

  for (const { name, ours, theirs } of cases) {
    it(`${name}: equals OpenCC on every dictionary key`, () => {
      const keys = keysOf(name);
      expect(keys.length).toBeGreaterThan(1000);
      const differ = keys.filter((k) => ours(k) !== theirs(k));
      expect(differ.slice(0, 10)).toEqual([]);
    });

    it(`${name}: equals OpenCC on texts of phrases, cut phrases and other characters`, () => {
      const texts = mixedTexts(keysOf(name), 5000, name.length * 7919);
      const differ = texts.filter((t) => ours(t) !== theirs(t));
      expect(differ.slice(0, 5)).toEqual([]);
    });
  }

  it('converts whole phrases, not only characters', () => {
    expect(toSimplifiedChinese('後來說話')).toBe('后来说话');
    expect(toTraditionalChinese('后来说话')).toBe('後來說話');
    // 頭髮 / 发: the phrase decides which Traditional character the Simplified one stands for.
    expect(toTraditionalChinese('头发和发票')).toBe('頭髮和發票');
  });

  it('reads a group as OpenCC does: the first dictionary wins, then the longest phrase', () => {
    const convert = converterOf({ conversionChain: [['ab X|a Y', 'a Z|abc W']] });
    expect(convert('a')).toBe('Y');
    expect(convert('ab')).toBe('X');
    expect(convert('abc')).toBe('W');
    expect(convert('abd')).toBe('Xd');
    // A later group reads the earlier group's output; segmentation keeps phrases apart.
    expect(converterOf({ conversionChain: [['a b'], ['bb c']] })('aa')).toBe('c');
    expect(converterOf({ segmentation: 'a a', conversionChain: [['a b'], ['bb c']] })('aa')).toBe('bb');
  });

  it('leaves other text as it is', () => {
    for (const t of ['', 'Hello, world', 'Pesanan saya belum sampai', '🙂 123', '\uD800x']) {
      expect(toSimplifiedChinese(t)).toBe(t);
      expect(toTraditionalChinese(t)).toBe(t);
    }
  });
});
