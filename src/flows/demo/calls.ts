/**
 * The calls the demo shop sends to Candor, shaped exactly as a shop's site and backend would send them:
 * `POST /v1/consent`, the Segment-spec `POST /v1/track | /v1/page | /v1/identify`, and completed orders
 * sent by the shop's backend as a Segment track call with event `order_completed`.
 */

export type Purposes = {
  analytics: boolean;
  personalization: boolean;
  marketing_email: boolean;
  marketing_push: boolean;
  advertising: boolean;
  sale: boolean;
};

export type ConsentMethod = 'banner' | 'gpc' | 'api';

/** Body of `POST /v1/consent`. */
export type ConsentBody = {
  anonymousId: string;
  userId?: string;
  purposes: Purposes;
  noticeVersion: string;
  method: ConsentMethod;
  locale: string;
  gpc?: boolean;
};

export type CallContext = {
  page: { path: string; url: string; referrer: string; title: string };
  userAgent: string;
  locale: string;
  /** Synthetic, from the documentation address ranges (RFC 5737 / RFC 3849). */
  ip: string;
  campaign?: { source: string; medium: string; name: string };
  /** The browser session the call belongs to. */
  sessionId: string;
};

export type TrackBody = {
  messageId: string;
  anonymousId: string;
  userId?: string;
  event: string;
  properties: Record<string, unknown>;
  context: CallContext;
  timestamp: string;
};

export type PageBody = {
  messageId: string;
  anonymousId: string;
  userId?: string;
  name: string;
  properties: { path: string; url: string; referrer: string; title: string };
  context: CallContext;
  timestamp: string;
};

export type Traits = {
  email: string;
  phone: string;
  name: string;
  firstName: string;
  lastName: string;
  address: { street: string; city: string; postalCode: string; country: string };
};

export type IdentifyBody = {
  messageId: string;
  anonymousId: string;
  userId: string;
  traits: Traits;
  context: CallContext;
  timestamp: string;
};

export type OrderItem = { product_id: string; quantity: number; price: number; category: string };

/** A completed order, sent server-to-server by the shop's backend (no browser context). */
export type OrderBody = {
  messageId: string;
  anonymousId: string;
  userId?: string;
  event: 'order_completed';
  properties: {
    order_id: string;
    cart_id: string;
    products: OrderItem[];
    revenue: number;
    currency: 'IDR';
  };
  timestamp: string;
};

/** `at` is the call's time in epoch milliseconds (the same instant as the body's timestamp). */
export type DemoCall =
  | { kind: 'consent'; at: number; body: ConsentBody }
  | { kind: 'track'; at: number; body: TrackBody }
  | { kind: 'page'; at: number; body: PageBody }
  | { kind: 'identify'; at: number; body: IdentifyBody }
  | { kind: 'order'; at: number; body: OrderBody };

export type DemoCallKind = DemoCall['kind'];

/** Our event vocabulary (DESIGN §5) as the demo uses it in track calls. */
export const DEMO_TRACK_EVENTS = [
  'product_view',
  'product_list_view',
  'search',
  'search_click',
  'add_to_cart',
  'remove_from_cart',
  'checkout_started',
  'review_submitted',
  'product_shared',
  'page_leave',
] as const;

export const NOTICE_VERSION = '2025-01';
