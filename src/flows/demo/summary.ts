/** Running totals of a demo stream, updated call by call (constant memory, any number of calls). */
import type { DemoCall } from './calls.ts';

export type DemoSummary = {
  /** Shoppers seen: each announces itself with a first consent decision (banner or GPC). */
  shoppers: number;
  calls: number;
  consentDecisions: number;
  /** Later decisions made through the API (withdrawals in the privacy centre). */
  consentChanges: number;
  identifies: number;
  /** Browser events by our vocabulary: page calls count as `page_view`, orders as `order_completed`. */
  eventsByType: Record<string, number>;
  orders: number;
  /** Sum of order revenue, in rupiah. */
  revenue: number;
  currency: 'IDR';
  zeroResultSearches: number;
  first: number | null;
  last: number | null;
};

export type DemoSummaryBuilder = { add(call: DemoCall): void; snapshot(): DemoSummary };

export function createDemoSummary(): DemoSummaryBuilder {
  const s: DemoSummary = {
    shoppers: 0,
    calls: 0,
    consentDecisions: 0,
    consentChanges: 0,
    identifies: 0,
    eventsByType: {},
    orders: 0,
    revenue: 0,
    currency: 'IDR',
    zeroResultSearches: 0,
    first: null,
    last: null,
  };
  const count = (type: string) => {
    s.eventsByType[type] = (s.eventsByType[type] ?? 0) + 1;
  };
  return {
    add(call) {
      s.calls++;
      s.first ??= call.at;
      s.last = call.at;
      switch (call.kind) {
        case 'consent':
          s.consentDecisions++;
          if (call.body.method === 'api') s.consentChanges++;
          else s.shoppers++;
          break;
        case 'identify':
          s.identifies++;
          break;
        case 'page':
          count('page_view');
          break;
        case 'track':
          count(call.body.event);
          if (call.body.event === 'search' && call.body.properties.results_count === 0)
            s.zeroResultSearches++;
          break;
        case 'order':
          count('order_completed');
          s.orders++;
          s.revenue += call.body.properties.revenue;
          break;
      }
    },
    snapshot: () => ({ ...s, eventsByType: { ...s.eventsByType } }),
  };
}

/** Consumes `calls` and returns their summary. */
export function demoSummary(calls: Iterable<DemoCall>): DemoSummary {
  const builder = createDemoSummary();
  for (const call of calls) builder.add(call);
  return builder.snapshot();
}
