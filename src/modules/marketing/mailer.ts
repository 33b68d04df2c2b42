/**
 * Delivery channels for campaigns: e-mail over SMTP (nodemailer) with RFC 8058 one-click unsubscribe
 * headers, and signed webhooks (HMAC-SHA256 over timestamp and body, retried with backoff) to a URL the shop
 * runs for push. Both carry an idempotency key so a receiver can drop a duplicate.
 */
import nodemailer from 'nodemailer';
import { hmacSha256 } from '../../kernel/crypto.ts';

export type SmtpConfig = {
  host: string;
  port: number;
  secure?: boolean;
  /** Accept a self-signed certificate (a local relay); never for a public relay. */
  insecureTls?: boolean;
  user?: string;
  password?: string;
  /** The From address, e.g. "Shop <news@shop.example>". */
  from: string;
};

export type EmailMessage = {
  to: string;
  subject: string;
  text: string;
  /** RFC 8058: an https URL that unsubscribes on POST. */
  unsubscribeUrl: string;
  /** Stable per recipient and campaign (`<key@candor>`): the same message id on any retry. */
  messageId: string;
  language: string;
};

export type Mailer = {
  /** Host the messages are handed to (for the share log). */
  readonly recipient: string;
  send(message: EmailMessage): Promise<{ messageId: string }>;
  close(): void;
};

export function createSmtpMailer(config: SmtpConfig): Mailer {
  const transport = nodemailer.createTransport({
    host: config.host,
    port: config.port,
    secure: config.secure ?? false,
    ...(config.user !== undefined ? { auth: { user: config.user, pass: config.password ?? '' } } : {}),
    ...(config.insecureTls ? { tls: { rejectUnauthorized: false } } : {}),
  });
  return {
    recipient: `smtp:${config.host}`,
    async send(m) {
      await transport.sendMail({
        from: config.from,
        to: m.to,
        subject: m.subject,
        text: m.text,
        messageId: m.messageId,
        headers: {
          'Content-Language': m.language,
          'List-Unsubscribe': `<${m.unsubscribeUrl}>`,
          'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
        },
      });
      return { messageId: m.messageId };
    },
    close: () => transport.close(),
  };
}

export type WebhookSender = {
  send(url: string, payload: unknown, idempotencyKey: string): Promise<{ status: number; attempts: number }>;
};

/** `t=<unix s>,v1=<hex HMAC-SHA256 of "t.body">`, as receivers of Stripe-style webhooks verify it. */
export function signWebhook(secret: string, body: string, ts: number): string {
  const t = Math.floor(ts / 1000);
  return `t=${t},v1=${hmacSha256(secret, `${t}.${body}`).toString('hex')}`;
}

export function createWebhookSender(config: {
  secret: string;
  attempts?: number;
  backoffMs?: number;
  timeoutMs?: number;
  now?: () => number;
}): WebhookSender {
  const attempts = config.attempts ?? 4;
  const backoff = config.backoffMs ?? 500;
  return {
    async send(url, payload, idempotencyKey) {
      const body = JSON.stringify(payload);
      let last = 'no attempt';
      for (let i = 1; i <= attempts; i++) {
        try {
          const res = await fetch(url, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'idempotency-key': idempotencyKey,
              'x-candor-signature': signWebhook(config.secret, body, (config.now ?? Date.now)()),
            },
            body,
            signal: AbortSignal.timeout(config.timeoutMs ?? 10_000),
          });
          // 4xx other than 408/429 will not get better by retrying.
          if (res.ok) return { status: res.status, attempts: i };
          last = `HTTP ${res.status}`;
          if (res.status < 500 && res.status !== 408 && res.status !== 429)
            throw Object.assign(new Error(`The webhook answered ${res.status}.`), { permanent: true });
        } catch (e) {
          if ((e as { permanent?: boolean }).permanent) throw e;
          last = (e as Error).message;
        }
        if (i < attempts) await new Promise((r) => setTimeout(r, backoff * 2 ** (i - 1)));
      }
      throw new Error(`The webhook failed after ${attempts} attempts (${last}).`);
    },
  };
}
