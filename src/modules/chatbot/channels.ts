/**
 * Messaging channels: the WhatsApp Cloud API and Instagram Messaging webhook formats. Meta calls one URL
 * per channel: a GET handshake that echoes `hub.challenge` when `hub.verify_token` matches, then POSTs of
 * JSON signed with `X-Hub-Signature-256: sha256=<HMAC-SHA256(app secret, raw body)>`. Inbound text messages
 * become chat turns; the bot's replies go out through the Graph API at a configurable base URL (so a test,
 * or a proxy, can stand in for graph.facebook.com). A sender is one continuing conversation whose id is a
 * keyed hash of the sender id, so no phone number or account id is stored as a key.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type MessagingChannel = 'whatsapp' | 'instagram';

/** WhatsApp and Instagram: channels whose shopper reads replies on the platform, sent through its API. */
export function isMessagingChannel(channel: string): channel is MessagingChannel {
  return channel === 'whatsapp' || channel === 'instagram';
}

export type ChannelConfig = {
  /** The token typed into the Meta app dashboard for the webhook handshake. */
  verifyToken: string;
  /** The Meta app secret: signs every webhook delivery. */
  appSecret: string;
  /** Access token used for outbound messages. */
  accessToken: string;
  /** Graph API base URL; default https://graph.facebook.com. */
  baseUrl?: string | undefined;
  /** Graph API version path segment; default v21.0. */
  apiVersion?: string | undefined;
};

export type InboundMessage = {
  channel: MessagingChannel;
  /** The platform's message id: retries of one delivery carry the same id. */
  messageId: string;
  /** Who wrote: a WhatsApp phone id or an Instagram-scoped user id (personal data; never stored). */
  from: string;
  /** The shop's own account on the platform that received it (phone number id / Instagram account id). */
  to: string;
  text: string;
};

const DEFAULT_BASE_URL = 'https://graph.facebook.com';
const DEFAULT_API_VERSION = 'v21.0';

/** Checks `X-Hub-Signature-256` against the exact bytes received (constant-time compare). */
export function verifySignature(rawBody: string, header: string | undefined, appSecret: string): boolean {
  if (!header?.startsWith('sha256=')) return false;
  const given = Buffer.from(header.slice('sha256='.length), 'hex');
  const expected = createHmac('sha256', appSecret).update(rawBody, 'utf8').digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Signs a body the way Meta does (for tests and for tools that replay deliveries). */
export function signBody(rawBody: string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody, 'utf8').digest('hex')}`;
}

/** The verify-token handshake: the challenge to echo, or null when the token or mode is wrong. */
export function handshake(query: Record<string, string | undefined>, verifyToken: string): string | null {
  const token = query['hub.verify_token'] ?? '';
  const a = Buffer.from(token);
  const b = Buffer.from(verifyToken);
  const ok = a.length === b.length && timingSafeEqual(a, b);
  return query['hub.mode'] === 'subscribe' && ok && query['hub.challenge'] ? query['hub.challenge'] : null;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | null =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null;
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

/**
 * Text messages of a WhatsApp Cloud API delivery (`object: whatsapp_business_account`). Status updates,
 * media and reactions carry no text for the bot and are skipped; an interactive button reply counts as text.
 */
export function parseWhatsApp(payload: unknown): InboundMessage[] {
  const out: InboundMessage[] = [];
  const root = obj(payload);
  if (root?.['object'] !== 'whatsapp_business_account') return out;
  for (const entry of arr(root['entry']))
    for (const change of arr(obj(entry)?.['changes'])) {
      const value = obj(obj(change)?.['value']);
      const to = str(obj(value?.['metadata'])?.['phone_number_id']);
      for (const m of arr(value?.['messages'])) {
        const msg = obj(m);
        const interactive = obj(msg?.['interactive']);
        const text =
          str(obj(msg?.['text'])?.['body']) ??
          str(obj(interactive?.['button_reply'])?.['title']) ??
          str(obj(interactive?.['list_reply'])?.['title']) ??
          str(obj(msg?.['button'])?.['text']);
        const from = str(msg?.['from']);
        const id = str(msg?.['id']);
        if (text && from && id && to) out.push({ channel: 'whatsapp', messageId: id, from, to, text });
      }
    }
  return out;
}

/**
 * Text messages of an Instagram Messaging delivery (`object: instagram`). Echoes of the shop's own messages,
 * deleted messages and attachments without text are skipped.
 */
export function parseInstagram(payload: unknown): InboundMessage[] {
  const out: InboundMessage[] = [];
  const root = obj(payload);
  if (root?.['object'] !== 'instagram') return out;
  for (const entry of arr(root['entry']))
    for (const event of arr(obj(entry)?.['messaging'])) {
      const e = obj(event);
      const message = obj(e?.['message']);
      if (!message || message['is_echo'] === true || message['is_deleted'] === true) continue;
      const text = str(message['text']);
      const from = str(obj(e?.['sender'])?.['id']);
      const to = str(obj(e?.['recipient'])?.['id']);
      const id = str(message['mid']);
      if (text && from && to && id) out.push({ channel: 'instagram', messageId: id, from, to, text });
    }
  return out;
}

/** The conversation id of one sender on one channel: a keyed hash, stable, and not the sender id itself. */
export function threadIdOf(m: InboundMessage, key: string): string {
  const h = createHmac('sha256', key).update(`${m.channel}:${m.to}:${m.from}`).digest('base64url');
  return `${m.channel === 'whatsapp' ? 'wa' : 'ig'}_${h.slice(0, 32)}`;
}

export type SendResult = { ok: true } | { ok: false; status: number; error: string };

/** Sends one text reply through the Graph API (WhatsApp: /{phone-number-id}/messages; Instagram: /{ig-id}/messages). */
export async function sendText(
  config: ChannelConfig,
  m: Pick<InboundMessage, 'channel' | 'from' | 'to'>,
  text: string,
  fetchImpl: typeof fetch = fetch,
): Promise<SendResult> {
  const base = (config.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  const url = `${base}/${config.apiVersion ?? DEFAULT_API_VERSION}/${encodeURIComponent(m.to)}/messages`;
  const body =
    m.channel === 'whatsapp'
      ? {
          messaging_product: 'whatsapp',
          recipient_type: 'individual',
          to: m.from,
          type: 'text',
          text: { preview_url: false, body: text },
        }
      : { recipient: { id: m.from }, message: { text } };
  try {
    const res = await fetchImpl(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${config.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    if (res.ok) return { ok: true };
    // The error body may echo the recipient: keep only the platform's error code for the log.
    const detail = (await res.json().catch(() => null)) as { error?: { code?: unknown } } | null;
    const code = detail?.error?.code;
    const shown = typeof code === 'number' || typeof code === 'string' ? code : 'unknown';
    return { ok: false, status: res.status, error: `graph error ${shown}` };
  } catch (e) {
    return { ok: false, status: 0, error: e instanceof Error ? e.name : 'network error' };
  }
}
