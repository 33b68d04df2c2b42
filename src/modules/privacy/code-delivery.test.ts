import { describe, expect, it } from 'vitest';
import { codeMessage, createEmailCodeSender, type CodeMail } from './code-delivery.ts';
import { NOTICE_LOCALES } from './notice.ts';
import type { AuditRecorder } from './privacy.service.ts';

const NOW = Date.parse('2026-03-02T09:00:00Z');

function setup(address: string | null) {
  const sent: CodeMail[] = [];
  const audits: Parameters<AuditRecorder['record']>[0][] = [];
  const send = createEmailCodeSender(
    { emailOf: async () => address, send: async (m) => void sent.push(m) },
    { audit: { record: async (e) => void audits.push(e) }, shopName: 'toko.example', now: () => NOW },
  );
  return { sent, audits, send };
}

const delivery = {
  requestId: 'dsar_1',
  subject: { userId: 'u-pseudonym', subjectIds: ['u-pseudonym'] },
  code: '042917',
  expiresAt: NOW + 10 * 60_000,
};

describe('verification codes by e-mail', () => {
  it('has the message in every notice language, with the code and how long it lasts', () => {
    for (const locale of NOTICE_LOCALES) {
      const m = codeMessage(locale, { code: '042917', minutes: 10, shop: 'toko.example' });
      expect(m.language).toBe(locale);
      expect(m.text).toContain('042917');
      expect(m.text).toContain('10');
      expect(m.subject).toContain('toko.example');
    }
    expect(codeMessage('id', { code: '1', minutes: 10, shop: 's' }).subject).toMatch(/Kode verifikasi/);
    expect(codeMessage('zh', { code: '1', minutes: 10, shop: 's' }).subject).toMatch(/验证码/);
  });

  it('sends to the address in the vault and audits the read under the request, never the address', async () => {
    const { sent, audits, send } = setup('shopper@example.test');
    await send({ ...delivery, locale: 'id' });
    expect(sent).toEqual([
      expect.objectContaining({
        to: 'shopper@example.test',
        language: 'id',
        messageId: expect.stringMatching(/^<dsar_1\./),
      }),
    ]);
    expect(sent[0]!.text).toContain('042917');
    expect(audits).toEqual([
      expect.objectContaining({
        actor: 'system:privacy',
        action: 'pii.read',
        target: 'dsar_1',
        outcome: 'success',
      }),
    ]);
    expect(JSON.stringify(audits)).not.toMatch(/shopper@|u-pseudonym|042917/);
  });

  it('sends nothing when no address is stored', async () => {
    const { sent, audits, send } = setup(null);
    await send({ ...delivery, locale: 'en' });
    expect(sent).toEqual([]);
    expect(audits[0]).toMatchObject({ outcome: 'failure', details: { reason: 'no_email_stored' } });
  });
});
