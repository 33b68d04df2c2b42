/**
 * Plain-text e-mail over SMTP (nodemailer), for messages the platform itself sends (verification codes).
 * Settings come from CANDOR_SMTP_URL / CANDOR_SMTP_FROM. A relay's error text can echo the recipient's
 * address, so `MailError` carries only the SMTP response code and a fixed description, never that text.
 */
import nodemailer from 'nodemailer';

export type SmtpSettings = {
  host: string;
  port: number;
  secure?: boolean;
  /** Accept a self-signed certificate (a local relay); never for a public relay. */
  insecureTls?: boolean;
  user?: string;
  password?: string;
  /** The From address, e.g. "Shop <privacy@shop.example>". */
  from: string;
};

/** SMTP settings from `smtp://user:pass@host:port` (or `smtps://`) and a From address; undefined without a URL. */
export function smtpSettingsOf(url: string | undefined, from: string | undefined): SmtpSettings | undefined {
  if (!url) return undefined;
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || (u.protocol === 'smtps:' ? 465 : 587)),
    secure: u.protocol === 'smtps:',
    ...(u.username ? { user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) } : {}),
    from: from ?? `no-reply@${u.hostname}`,
  };
}

export type MailMessage = {
  to: string;
  subject: string;
  text: string;
  /** BCP 47 language of the text (Content-Language). */
  language: string;
  /** `<id@host>`; the same id on a retry lets a receiving system drop the duplicate. */
  messageId?: string;
};

export type TextMailer = {
  /** The relay the messages are handed to (for the share log), e.g. `smtp:relay.example`. */
  readonly relay: string;
  send(message: MailMessage): Promise<void>;
  close(): void;
};

/** A delivery failure that is safe to log: no recipient, no relay text. */
export class MailError extends Error {
  readonly responseCode: number | null;
  constructor(responseCode: number | null, description: string) {
    super(description);
    this.name = 'MailError';
    this.responseCode = responseCode;
  }
}

function describeFailure(e: unknown): MailError {
  const { code, responseCode } = (e ?? {}) as { code?: unknown; responseCode?: unknown };
  const rc = typeof responseCode === 'number' ? responseCode : null;
  if (rc !== null)
    return new MailError(
      rc,
      `The mail relay refused the message (SMTP ${rc}${rc >= 500 ? ', permanent' : ''}).`,
    );
  const c = typeof code === 'string' && /^[A-Z_]{2,20}$/.test(code) ? code : 'unknown';
  return new MailError(null, `The mail relay could not be reached or failed (${c}); check CANDOR_SMTP_URL.`);
}

export function createTextMailer(settings: SmtpSettings, options: { timeoutMs?: number } = {}): TextMailer {
  const timeout = options.timeoutMs ?? 15_000;
  const transport = nodemailer.createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.secure ?? false,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    ...(settings.user !== undefined ? { auth: { user: settings.user, pass: settings.password ?? '' } } : {}),
    ...(settings.insecureTls ? { tls: { rejectUnauthorized: false } } : {}),
  });
  return {
    relay: `smtp:${settings.host}`,
    async send(m) {
      try {
        await transport.sendMail({
          from: settings.from,
          to: m.to,
          subject: m.subject,
          text: m.text,
          ...(m.messageId ? { messageId: m.messageId } : {}),
          headers: { 'Content-Language': m.language, 'Auto-Submitted': 'auto-generated' },
        });
      } catch (e) {
        throw describeFailure(e);
      }
    },
    close: () => transport.close(),
  };
}
