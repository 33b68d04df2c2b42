import { describe, expect, it } from 'vitest';
import { addCalendarMonths, deadlineFor } from './jurisdictions.ts';
import { buildNotice, pickLocale, NOTICE_LOCALES } from './notice.ts';
import { readTar, toCsv, writeTar } from './tar.ts';
import { checkCode, codeHash, newCode } from './verification.ts';

const secret = Buffer.alloc(32, 7).toString('base64');
const t0 = Date.UTC(2025, 0, 31, 12);

describe('jurisdiction deadlines', () => {
  it('gives GDPR one calendar month (clamped), CCPA 45 days, UU PDP 72 hours, PIPL 15 days', () => {
    expect(new Date(deadlineFor('gdpr', t0)).toISOString()).toBe('2025-02-28T12:00:00.000Z');
    expect(new Date(addCalendarMonths(Date.UTC(2025, 2, 15), 1)).toISOString()).toBe(
      '2025-04-15T00:00:00.000Z',
    );
    expect(deadlineFor('ccpa', t0) - t0).toBe(45 * 86_400_000);
    expect(deadlineFor('uu_pdp', t0) - t0).toBe(72 * 3_600_000);
    expect(deadlineFor('pipl', t0) - t0).toBe(15 * 86_400_000);
  });
});

describe('one-time codes', () => {
  it('accepts the right code once bound to its request, and refuses wrong, expired and locked ones', () => {
    const code = newCode();
    expect(code).toMatch(/^\d{6}$/);
    const state = {
      hash: codeHash(secret, 'dsar_1', code),
      expiresAt: t0 + 600_000,
      attempts: 0,
      maxAttempts: 5,
    };
    expect(checkCode(state, secret, 'dsar_1', code, t0)).toBe('ok');
    expect(checkCode(state, secret, 'dsar_2', code, t0)).toBe('wrong');
    expect(checkCode(state, secret, 'dsar_1', code === '000000' ? '000001' : '000000', t0)).toBe('wrong');
    expect(checkCode(state, secret, 'dsar_1', code, t0 + 600_000)).toBe('expired');
    expect(checkCode({ ...state, attempts: 5 }, secret, 'dsar_1', code, t0)).toBe('locked');
  });
});

describe('export files', () => {
  it('writes a tar that reads back, with CSV quoting', () => {
    const csv = toCsv([
      { a: 'x,y', b: 'say "hi"' },
      { a: 1, c: { k: true } },
    ]);
    expect(csv).toBe('a,b,c\r\n"x,y","say ""hi""",\r\n1,,"{""k"":true}"\r\n');
    const tar = writeTar(
      [
        { name: 'export.json', content: '{"ok":true}' },
        { name: 'csv/t.csv', content: csv },
      ],
      t0,
    );
    expect(tar.length % 512).toBe(0);
    expect(readTar(tar).map((e) => [e.name, e.content.toString()])).toEqual([
      ['export.json', '{"ok":true}'],
      ['csv/t.csv', csv],
    ]);
  });
});

describe('how your data is used', () => {
  it('answers in en, id and zh with the installation’s retention and processors', () => {
    expect(pickLocale('zh-CN,zh;q=0.9')).toBe('zh');
    expect(pickLocale('id-ID')).toBe('id');
    expect(pickLocale('fr')).toBe('en');
    for (const locale of NOTICE_LOCALES) {
      const n = buildNotice(
        locale,
        [{ dataClass: 'orders', ttlDays: 3650 }],
        [{ name: 'Mailer', purposes: ['marketing_email'], country: 'DE' }],
      );
      expect(n.purposes.map((p) => p.purpose)).toContain('personalization');
      expect(n.retention.items[0]).toMatchObject({ dataClass: 'orders', days: 3650 });
      expect(n.retention.items[0]!.label).not.toBe('orders');
      expect(n.processors.items[0]!.name).toBe('Mailer');
    }
    expect(buildNotice('id', [], []).title).toBe('Bagaimana data Anda digunakan');
  });
});
