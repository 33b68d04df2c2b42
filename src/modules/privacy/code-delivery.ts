/**
 * Delivery of one-time codes by e-mail. The address is looked up in the PII vault (the shop's record of
 * the shopper, not whatever a form was sent with), decrypted only inside `deliver` for the one message, and
 * never logged or stored. A guest who checked out without an account has no address in the vault, only its
 * keyed hash on their orders: a form's address whose hash the shop holds is then on record in that sense. The message text (en, id, zh) lives here; the transport (SMTP) is handed in.
 */
import type { Subject } from './holder.ts';
import type { NoticeLocale } from './notice.ts';
import type { AuditRecorder, CodeSender } from './privacy.service.ts';

/** One plain-text message, as a mailer sends it. */
export type CodeMail = { to: string; subject: string; text: string; language: string; messageId: string };

/** What the composition root provides to send codes by e-mail. */
export type CodeEmailChannel = {
  /**
   * The address to send the code to: the shopper's from the PII vault; for a subject known only by a
   * guest checkout, the address the request was made with when the shop holds its keyed hash for that
   * subject; else null (no message).
   */
  emailOf(subject: Subject, requestedAddress?: string): Promise<string | null>;
  send(mail: CodeMail): Promise<void>;
};

type CodeTexts = { subject: (shop: string) => string; body: (v: MessageValues) => string };
type MessageValues = { code: string; minutes: number; shop: string };

const TEXTS: Readonly<Record<NoticeLocale, CodeTexts>> = {
  en: {
    subject: (shop) => `Your verification code for ${shop}`,
    body: ({ code, minutes, shop }) =>
      [
        `Your code is ${code}`,
        '',
        `Someone asked ${shop} for a copy or the erasure of the personal data held about this e-mail address.`,
        `Enter the code on the page where you made the request. It is valid for ${minutes} minutes.`,
        '',
        'If you did not ask for this, ignore this message: nothing happens without the code.',
      ].join('\n'),
  },
  id: {
    subject: (shop) => `Kode verifikasi Anda untuk ${shop}`,
    body: ({ code, minutes, shop }) =>
      [
        `Kode Anda: ${code}`,
        '',
        `Seseorang meminta ${shop} untuk salinan atau penghapusan data pribadi yang tersimpan untuk alamat e-mail ini.`,
        `Masukkan kode ini di halaman tempat permintaan dibuat. Kode berlaku selama ${minutes} menit.`,
        '',
        'Jika Anda tidak memintanya, abaikan pesan ini: tidak ada yang terjadi tanpa kode ini.',
      ].join('\n'),
  },
  zh: {
    subject: (shop) => `您在 ${shop} 的验证码`,
    body: ({ code, minutes, shop }) =>
      [
        `您的验证码是 ${code}`,
        '',
        `有人请求 ${shop} 提供或删除与此电子邮件地址相关的个人数据。`,
        `请在提交请求的页面输入此验证码，${minutes} 分钟内有效。`,
        '',
        '如果这不是您本人的请求，请忽略此邮件：没有验证码，什么都不会发生。',
      ].join('\n'),
  },
};

/** The verification message in the shopper's language. */
export function codeMessage(
  locale: NoticeLocale,
  values: MessageValues,
): { subject: string; text: string; language: NoticeLocale } {
  const t = TEXTS[locale];
  return { subject: t.subject(values.shop), text: t.body(values), language: locale };
}

/**
 * A CodeSender over e-mail. Reading the address is a system read of personal data, audited under the
 * request id (never the subject). A subject with no stored address gets no message (false): the public
 * answer is the same either way; a staff resend is told.
 */
export function createEmailCodeSender(
  channel: CodeEmailChannel,
  deps: { audit: AuditRecorder; shopName: string; now: () => number; messageHost?: string },
): CodeSender {
  return async ({ requestId, subject, code, expiresAt, locale, requestedAddress }) => {
    const to = await channel.emailOf(subject, requestedAddress);
    await deps.audit.record({
      actor: 'system:privacy',
      action: 'pii.read',
      target: requestId,
      purpose: 'data_subject_rights',
      outcome: to ? 'success' : 'failure',
      details: { fields: 'email', reason: to ? 'verification_code' : 'no_email_stored' },
    });
    if (!to) return false;
    const minutes = Math.max(1, Math.round((expiresAt - deps.now()) / 60_000));
    const message = codeMessage(locale, { code, minutes, shop: deps.shopName });
    await channel.send({
      to,
      ...message,
      // Unique per code: a resend is a new message, a transport retry of the same one is not.
      messageId: `<${requestId}.${expiresAt}@${deps.messageHost ?? 'candor.invalid'}>`,
    });
    return true;
  };
}
