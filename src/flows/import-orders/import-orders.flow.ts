/**
 * Imports a shop's order history through the front door: each customer's consent as stated for the import
 * goes to the consent ledger (method `import`), each order through the ingestion pipeline as an
 * `order_completed` event. Without analytics consent an order is kept for the order relationship (purpose
 * `necessary`) and feeds no profiling, exactly as a live order would.
 */
import type { Pseudonymizer } from '../../kernel/crypto.ts';
import {
  CONSENT_PURPOSES,
  subjectIdsFor,
  type Purpose,
  type RecordDecisionInput,
} from '../../modules/consent/index.ts';
import type { IngestOutcome } from '../../modules/ingest/index.ts';
import type { ImportedOrder } from './online-retail.ts';

export type ImportConsent = {
  record(input: RecordDecisionInput): Promise<{ consentId: string }>;
  history(subjectIds: readonly string[]): Promise<{ records: readonly unknown[] }>;
  currentNotice(): Promise<{ version: string } | null>;
};

export type ImportIngest = {
  ingestWithKey(
    writeKey: string,
    request: { messages: readonly unknown[]; receivedAt?: readonly number[] },
  ): Promise<IngestOutcome & { sourceId: string }>;
};

export type ImportOrdersDeps = {
  consent: ImportConsent;
  ingest: ImportIngest;
  pseudonymize: Pseudonymizer;
  /** Write key and id of the import's source (created through the auth module). */
  writeKey: string;
  sourceId: string;
};

export type ImportOrdersOptions = {
  /** Purposes the shop states its imported customers consented to; `necessary` is implied. */
  consent: readonly Purpose[];
  /** Prefix of message ids (idempotency: importing the same file twice stores each order once). */
  format: string;
  /** Orders per ingestion call. */
  batchSize?: number;
};

export type ImportOrdersSummary = {
  orders: number;
  accepted: number;
  dropped: number;
  quarantined: Record<string, number>;
  /** Cancellations: kept out, since Candor has no refund event yet. */
  refundsSkipped: number;
  customers: number;
  /** Customers whose stated consent was recorded (customers with an existing ledger keep their own choices). */
  consentRecorded: number;
};

/** Order amounts arrive in minor units; Segment's spec (and our events) carry major units. */
const major = (minor: number) => Math.round(minor) / 100;

function toMessage(format: string, o: ImportedOrder): Record<string, unknown> {
  const who = o.customerId !== undefined ? { userId: o.customerId } : { anonymousId: `guest:${o.orderId}` };
  return {
    type: 'track',
    event: 'order_completed',
    messageId: `${format}:${o.orderId}`,
    ...who,
    timestamp: new Date(o.ts).toISOString(),
    properties: {
      order_id: o.orderId,
      revenue: major(o.revenue),
      currency: o.currency,
      products: o.items.map((i) => ({
        product_id: i.productId,
        quantity: i.quantity,
        price: major(i.unitPrice),
      })),
    },
  };
}

export function createOrderImport(deps: ImportOrdersDeps, options: ImportOrdersOptions) {
  const batchSize = options.batchSize ?? 2_000;
  const stated = new Set<Purpose>(options.consent);
  const purposes: Partial<Record<Purpose, boolean>> = {};
  for (const p of CONSENT_PURPOSES) purposes[p] = stated.has(p);
  const seen = new Set<string>();
  const summary: ImportOrdersSummary = {
    orders: 0,
    accepted: 0,
    dropped: 0,
    quarantined: {},
    refundsSkipped: 0,
    customers: 0,
    consentRecorded: 0,
  };
  let batch: ImportedOrder[] = [];
  let notice: string | null = null;

  /**
   * The stated consent of a customer first seen in this import, dated at their first imported order so the
   * orders are judged by it. A customer who already has decisions on the ledger keeps them: the shopper's own
   * choice outranks what an import says.
   */
  async function recordConsent(o: ImportedOrder): Promise<void> {
    if (o.customerId === undefined || seen.has(o.customerId)) return;
    seen.add(o.customerId);
    summary.customers++;
    const subjectIds = subjectIdsFor(deps.pseudonymize, { userId: o.customerId });
    if ((await deps.consent.history(subjectIds)).records.length > 0) return;
    notice ??= (await deps.consent.currentNotice())?.version ?? null;
    if (notice === null) return;
    await deps.consent.record({
      subjectIds,
      purposes,
      noticeVersion: notice,
      method: 'import',
      locale: null,
      channel: deps.sourceId,
      actor: `import:${deps.sourceId}`,
      decidedAt: o.ts,
    });
    summary.consentRecorded++;
  }

  async function flush(): Promise<void> {
    if (batch.length === 0) return;
    const orders = batch;
    batch = [];
    for (const o of orders) await recordConsent(o);
    const outcome = await deps.ingest.ingestWithKey(deps.writeKey, {
      messages: orders.map((o) => toMessage(options.format, o)),
      receivedAt: orders.map((o) => o.ts),
    });
    summary.accepted += outcome.accepted;
    summary.dropped += outcome.dropped;
    for (const [reason, n] of Object.entries(outcome.reasons))
      summary.quarantined[reason] = (summary.quarantined[reason] ?? 0) + n;
  }

  return {
    async add(o: ImportedOrder): Promise<void> {
      if (o.kind === 'refund') {
        summary.refundsSkipped++;
        return;
      }
      summary.orders++;
      batch.push(o);
      if (batch.length >= batchSize) await flush();
    },
    async finish(): Promise<ImportOrdersSummary> {
      await flush();
      return { ...summary, quarantined: { ...summary.quarantined } };
    },
    summary: () => summary,
  };
}

export type OrderImport = ReturnType<typeof createOrderImport>;
