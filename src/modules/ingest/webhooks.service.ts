/**
 * Order webhooks of shop platforms. Shopify (`X-Shopify-Hmac-Sha256`) and WooCommerce
 * (`X-WC-Webhook-Signature`) both sign the raw body with HMAC-SHA256 and send it base64-encoded. A request
 * is accepted only when the signature matches a secret registered for that platform (compared in constant
 * time); its order becomes an `order_completed` message for the ingestion pipeline, with a message id made
 * from the platform's order id, so a redelivered webhook is stored once.
 */
import type { Clock } from '../../kernel/clock.ts';
import { constantTimeEqual, hmacSha256, randomToken, type KeyRing } from '../../kernel/crypto.ts';
import { AppError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import type { StateStore } from '../../storage/ports.ts';
import { webhookDb } from './webhooks.store.ts';

export const WEBHOOK_PLATFORMS = ['shopify', 'woocommerce'] as const;
export type WebhookPlatform = (typeof WEBHOOK_PLATFORMS)[number];

export const SIGNATURE_HEADER: Record<WebhookPlatform, string> = {
  shopify: 'x-shopify-hmac-sha256',
  woocommerce: 'x-wc-webhook-signature',
};

/** The header each platform names the delivery's topic in (orders/updated, refunds/create, order.updated, …). */
export const TOPIC_HEADER: Record<WebhookPlatform, string> = {
  shopify: 'x-shopify-topic',
  woocommerce: 'x-wc-webhook-topic',
};

/**
 * Topics whose body is a whole order, the only ones that become an `order_completed` event (a fulfilment
 * or refund body has its own id, which is not an order's). No topic header: a whole order, as before.
 */
export function isOrderTopic(platform: WebhookPlatform, topic: string | null): boolean {
  const t = (topic ?? '').trim().toLowerCase();
  if (t === '') return true;
  return platform === 'shopify'
    ? t.startsWith('orders/') && t !== 'orders/delete'
    : t.startsWith('order.') && t !== 'order.deleted';
}

/** The orders module's port: every signed delivery updates the order record (status, carrier, tracking). */
export type WebhookOrders = {
  fromPlatform(
    platform: WebhookPlatform,
    topic: string | null,
    payload: unknown,
    sourceId: string,
  ): Promise<unknown>;
};

export type WebhookDeps = { state: StateStore; clock: Clock; keyRing: KeyRing };

/** base64 HMAC-SHA256 of the raw body, as both platforms send it. */
export function signWebhook(secret: string, rawBody: Buffer | string): string {
  return hmacSha256(secret, rawBody).toString('base64');
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null =>
  typeof v === 'string' && v !== '' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : null;
const num = (v: unknown): number | null => {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
};

/**
 * A platform order payload → a Segment track message (`order_completed`), or null when the payload is not
 * an order. Only order facts are read: customer e-mail, names and addresses are never copied.
 */
export function orderMessageOf(platform: WebhookPlatform, payload: unknown): Obj | null {
  if (!isObj(payload)) return null;
  const id = str(payload.id);
  if (id === null) return null;
  const items = Array.isArray(payload.line_items) ? payload.line_items.filter(isObj) : [];
  const products = items.map((i) => ({
    product_id: str(i.product_id) ?? str(i.sku) ?? 'unknown',
    quantity: num(i.quantity) ?? 1,
    price: num(i.price) ?? 0,
  }));
  let customer: string | null;
  let at: string | null;
  let revenue: number | null;
  if (platform === 'shopify') {
    customer = isObj(payload.customer) ? str(payload.customer.id) : null;
    at = str(payload.processed_at) ?? str(payload.created_at);
    revenue = num(payload.total_price);
  } else {
    // WooCommerce: customer_id 0 is a guest; dates without zone are GMT in the *_gmt fields.
    const c = num(payload.customer_id);
    customer = c !== null && c > 0 ? String(c) : null;
    const gmt = str(payload.date_created_gmt);
    at = gmt !== null ? (/[zZ]|[+-]\d\d:?\d\d$/.test(gmt) ? gmt : `${gmt}Z`) : str(payload.date_created);
    revenue = num(payload.total);
  }
  return {
    type: 'track',
    event: 'order_completed',
    messageId: `${platform}:order:${id}`,
    ...(customer !== null ? { userId: customer } : { anonymousId: `${platform}-guest:${id}` }),
    ...(at !== null ? { timestamp: at } : {}),
    properties: {
      order_id: str(payload.number) !== null && platform === 'woocommerce' ? `wc-${id}` : id,
      revenue: revenue ?? 0,
      currency: str(payload.currency) ?? 'USD',
      products,
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;

export function createWebhookService(deps: WebhookDeps) {
  const db = webhookDb(deps.state);

  return {
    /**
     * Registers a webhook secret for a source. Shopify generates the secret (the app's client secret): pass
     * it. WooCommerce lets the shop choose: omit it and a strong one is generated. Returned once.
     */
    async createSecret(input: {
      sourceId: string;
      platform: WebhookPlatform;
      secret?: string | undefined;
      actor: string;
    }): Promise<{ webhookId: string; secret: string; path: string }> {
      const secret = input.secret ?? randomToken(32);
      if (secret.length < 16 || secret.length > 512)
        throw new AppError(
          'invalid_request',
          'A webhook secret must be 16–512 characters; omit it to generate one.',
        );
      const webhookId = newId('wh');
      await db
        .insertInto('ingest_webhook_secrets')
        .values({
          id: webhookId,
          source_id: input.sourceId,
          platform: input.platform,
          sealed_secret: deps.keyRing.wrap(Buffer.from(secret, 'utf8')),
          created_at: deps.clock.now().getTime(),
          created_by: input.actor,
        })
        .execute();
      return { webhookId, secret, path: `/v1/webhooks/${input.platform}/orders` };
    },

    /** The source whose secret signed this body, or null. Every candidate is compared in constant time. */
    async verify(
      platform: WebhookPlatform,
      rawBody: Buffer,
      signature: string,
    ): Promise<{ sourceId: string } | null> {
      const rows = await db
        .selectFrom('ingest_webhook_secrets')
        .select(['source_id', 'sealed_secret'])
        .where('platform', '=', platform)
        .execute();
      const given = Buffer.from(signature.trim(), 'utf8');
      let match: string | null = null;
      for (const r of rows) {
        const expected = Buffer.from(
          signWebhook(deps.keyRing.unwrap(r.sealed_secret).toString('utf8'), rawBody),
        );
        if (constantTimeEqual(expected, given) && match === null) match = r.source_id;
      }
      return match === null ? null : { sourceId: match };
    },
  };
}
