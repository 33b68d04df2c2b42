import { describe, expect, it } from 'vitest';
import { LOCALES, MESSAGES, matchLocale, translator, type MessageKey } from './i18n.ts';
import { toCsv } from './format.ts';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('UI languages', () => {
  it('every language has every message, non-empty, with the same placeholders as English', () => {
    const keys = Object.keys(MESSAGES.en) as MessageKey[];
    for (const locale of LOCALES) {
      expect(Object.keys(MESSAGES[locale]).sort(), locale).toEqual([...keys].sort());
      for (const key of keys) {
        const text = MESSAGES[locale][key];
        expect(text.trim().length, `${locale} ${key}`).toBeGreaterThan(0);
        expect(placeholders(text), `${locale} ${key}`).toEqual(placeholders(MESSAGES.en[key]));
      }
    }
  });

  it('Traditional Chinese is not a copy of Simplified Chinese', () => {
    expect(MESSAGES['zh-Hant']['nav.audit']).toBe('審計日誌');
    expect(MESSAGES['zh-Hans']['nav.audit']).toBe('审计日志');
  });

  it('fills placeholders and picks the closest language for a browser tag', () => {
    expect(translator('id')('dsar.daysLeft', { n: 3 })).toBe('Sisa 3 hari');
    expect(matchLocale('zh-TW')).toBe('zh-Hant');
    expect(matchLocale('zh-HK')).toBe('zh-Hant');
    expect(matchLocale('zh-CN')).toBe('zh-Hans');
    expect(matchLocale('id-ID')).toBe('id');
    expect(matchLocale('fr-FR')).toBe('en');
    expect(matchLocale(null)).toBe('en');
  });
});

describe('CSV export', () => {
  it('quotes cells holding commas, quotes or line breaks and leaves empty cells empty', () => {
    expect(
      toCsv(
        ['query', 'searches'],
        [
          ['red, shoes', 3],
          ['say "hi"', null],
          ['a\nb', 0],
        ],
      ),
    ).toBe('query,searches\r\n"red, shoes",3\r\n"say ""hi""",\r\n"a\nb",0\r\n');
  });
});
