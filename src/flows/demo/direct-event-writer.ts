/**
 * Interim path from demo calls to the event store, used only until the demo goes through the ingestion
 * pipeline. It keeps the privacy invariants the pipeline will enforce: only calls of shoppers whose latest
 * consent allows `analytics` are stored, under that purpose and naming that consent; subjects, devices and
 * sessions are HMAC pseudonyms; no email, phone, name, address or IP reaches an event (identify traits and
 * consent decisions are not events and are not stored here).
 */
import type { Pseudonymizer } from '../../kernel/crypto.ts';
import type { EventRecord, EventStore } from '../../storage/ports.ts';
import type { CallContext, DemoCall } from './calls.ts';

export type DirectEventWriterDeps = {
  events: EventStore;
  pseudonymize: Pseudonymizer;
  /** Source the events are recorded under (default `demo`). */
  sourceId?: string;
};

export type DirectWriteStats = {
  stored: number;
  duplicates: number;
  /** Browser calls of shoppers without analytics consent at the time of the call. */
  droppedNoConsent: number;
  /** Consent decisions and identify calls: not behavioural events. */
  notEvents: number;
};

export type DirectEventWriter = {
  submit(calls: readonly DemoCall[]): Promise<DirectWriteStats>;
  stats(): DirectWriteStats;
};

/** The pseudonym namespaces the ingestion pipeline uses, so demo subjects match ingested ones. */
const NS = { user: 'user', device: 'device', session: 'session', consent: 'demo-consent' } as const;

export function deviceClassOf(userAgent: string): 'mobile' | 'tablet' | 'desktop' {
  if (/iPad|Tablet/i.test(userAgent)) return 'tablet';
  if (/Mobile|Android|iPhone/i.test(userAgent)) return 'mobile';
  return 'desktop';
}

const MAPPED_PROPS = new Set([
  'product_id',
  'category',
  'query',
  'order_id',
  'revenue',
  'currency',
  'quantity',
  'path',
]);

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function createDirectEventWriter(deps: DirectEventWriterDeps): DirectEventWriter {
  const sourceId = deps.sourceId ?? 'demo';
  /** Latest consent per device id: whether analytics is allowed and the decision that says so. */
  const consent = new Map<string, { analytics: boolean; consentId: string }>();
  const totals: DirectWriteStats = { stored: 0, duplicates: 0, droppedNoConsent: 0, notEvents: 0 };
  // A shopper sends many calls; computing each pseudonym once keeps the HMAC cost per shopper, not per call.
  const memo = new Map<string, string>();
  const pseudonym = (ns: string, value: string): string => {
    const key = `${ns}\u0000${value}`;
    let p = memo.get(key);
    if (p === undefined) {
      p = deps.pseudonymize(ns, value);
      memo.set(key, p);
    }
    return p;
  };

  const base = (
    call: DemoCall,
    ids: { anonymousId: string; userId?: string },
    consentId: string,
    context: CallContext | null,
  ): EventRecord => {
    const device = pseudonym(NS.device, ids.anonymousId);
    const user = ids.userId === undefined ? null : pseudonym(NS.user, ids.userId);
    return {
      eventId: call.kind === 'consent' ? '' : call.body.messageId,
      sourceId,
      subjectId: user ?? device,
      anonymousId: device,
      userId: user,
      sessionId: context ? pseudonym(NS.session, context.sessionId) : null,
      type: '',
      purpose: 'analytics',
      consentId,
      ts: call.at,
      receivedAt: call.at,
      path: context?.page.path ?? null,
      referrer: context ? str(context.page.referrer) : null,
      productId: null,
      category: null,
      query: null,
      orderId: null,
      revenue: null,
      currency: null,
      quantity: null,
      deviceClass: context ? deviceClassOf(context.userAgent) : null,
      // No IP-to-region table ships with Candor yet, and the IP itself is never stored.
      country: null,
      region: null,
      utmSource: context?.campaign?.source ?? null,
      props: '{}',
    };
  };

  const toRecord = (call: DemoCall, stats: DirectWriteStats): EventRecord | null => {
    if (call.kind === 'consent') {
      const id = `cst_${deps.pseudonymize(NS.consent, `${call.body.anonymousId}:${call.at}`).slice(0, 24)}`;
      consent.set(call.body.anonymousId, { analytics: call.body.purposes.analytics, consentId: id });
      stats.notEvents++;
      return null;
    }
    if (call.kind === 'identify') {
      stats.notEvents++;
      return null;
    }
    const state = consent.get(call.body.anonymousId);
    if (!state?.analytics) {
      stats.droppedNoConsent++;
      return null;
    }
    if (call.kind === 'page') {
      const e = base(call, call.body, state.consentId, call.body.context);
      e.type = 'page_view';
      e.props = JSON.stringify({ title: call.body.properties.title });
      return e;
    }
    if (call.kind === 'order') {
      const p = call.body.properties;
      const e = base(call, call.body, state.consentId, null);
      e.type = 'order_completed';
      e.orderId = p.order_id;
      e.revenue = p.revenue;
      e.currency = p.currency;
      e.quantity = p.products.reduce((sum, it) => sum + it.quantity, 0);
      e.props = JSON.stringify({ cart_id: p.cart_id, products: p.products });
      return e;
    }
    const p = call.body.properties;
    const e = base(call, call.body, state.consentId, call.body.context);
    e.type = call.body.event;
    e.path = str(p.path) ?? e.path;
    e.productId = str(p.product_id);
    e.category = str(p.category);
    e.query = typeof p.query === 'string' ? p.query : null;
    e.orderId = str(p.order_id);
    e.revenue = num(p.revenue);
    e.currency = str(p.currency);
    e.quantity = num(p.quantity);
    const rest: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(p)) if (!MAPPED_PROPS.has(k)) rest[k] = v;
    e.props = JSON.stringify(rest);
    return e;
  };

  return {
    async submit(calls) {
      const stats: DirectWriteStats = { stored: 0, duplicates: 0, droppedNoConsent: 0, notEvents: 0 };
      const records: EventRecord[] = [];
      for (const call of calls) {
        const record = toRecord(call, stats);
        if (record) records.push(record);
      }
      if (records.length > 0) {
        const result = await deps.events.append(records);
        stats.stored = result.inserted;
        stats.duplicates = result.duplicates;
      }
      totals.stored += stats.stored;
      totals.duplicates += stats.duplicates;
      totals.droppedNoConsent += stats.droppedNoConsent;
      totals.notEvents += stats.notEvents;
      return stats;
    },
    stats: () => ({ ...totals }),
  };
}
