/**
 * The event vocabulary (DESIGN.md §5), how Segment's e-commerce spec names map onto it, and the purpose
 * each event type is collected under.
 */
export const EVENT_TYPES = [
  'page_view',
  'product_view',
  'product_list_view',
  'search',
  'search_click',
  'add_to_cart',
  'remove_from_cart',
  'checkout_started',
  'order_completed',
  'review_submitted',
  'product_shared',
  'page_leave',
  // Identity calls are stored too, so profiles can rebuild the identity graph from the event log.
  'identify',
  'alias',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** Segment e-commerce spec v2 event names → our vocabulary. */
export const SEGMENT_EVENT_NAMES: Readonly<Record<string, EventType>> = {
  'Product Viewed': 'product_view',
  'Products Searched': 'search',
  'Product Added': 'add_to_cart',
  'Product Removed': 'remove_from_cart',
  'Order Completed': 'order_completed',
  'Checkout Started': 'checkout_started',
  'Product List Viewed': 'product_list_view',
  'Product Shared': 'product_shared',
  'Product Reviewed': 'review_submitted',
  'Product Clicked': 'search_click',
};

const OWN_NAMES: ReadonlySet<string> = new Set(EVENT_TYPES);

/** A track call's event name in our vocabulary, or null when it is neither a Segment spec name nor ours. */
export function eventTypeOf(name: string): EventType | null {
  if (Object.hasOwn(SEGMENT_EVENT_NAMES, name)) return SEGMENT_EVENT_NAMES[name]!;
  return OWN_NAMES.has(name) && name !== 'identify' && name !== 'alias' ? (name as EventType) : null;
}

/**
 * The purpose an event type is collected for. Behaviour is `analytics`. A completed order is also
 * `necessary` (the shop must keep its orders, whatever the shopper chose): the consent gate stores it
 * either way, labelled `analytics` with the consent record when analytics consent existed at event time,
 * else `necessary` with no consent record — and profiling reads only events labelled with a consented purpose.
 */
export function purposeOf(type: EventType): 'analytics' {
  void type;
  return 'analytics';
}

/** Event types stored without consent, on a legal basis other than consent (labelled `necessary`). */
export const NECESSARY_TYPES: ReadonlySet<EventType> = new Set(['order_completed']);
