/**
 * Loads the demo shop into a running Candor: the catalogue first, then every shopper call in time order,
 * in batches, reporting progress. `createDemoPipeline` is the target the composition root passes: consent
 * calls go to the consent service, tracking calls and orders through the ingestion pipeline (the same steps
 * as HTTP), authenticated by a demo source's write key.
 */
import type { Pseudonymizer } from '../../kernel/crypto.ts';
import type { CategoryInput, ProductInput } from '../../modules/catalog/index.ts';
import {
  GPC_PURPOSES,
  subjectIdsFor,
  type Purpose,
  type RecordDecisionInput,
} from '../../modules/consent/index.ts';
import type { IngestOutcome } from '../../modules/ingest/index.ts';
import { NOTICE_VERSION, type DemoCall } from './calls.ts';
import { generateCatalog, type DemoCatalog, type DemoCategory, type DemoProduct } from './catalog.ts';
import { DAY_MS, generateShoppers, toEpochMs } from './shoppers.ts';
import { createDemoSummary, type DemoSummary } from './summary.ts';

export type DemoTarget = {
  upsertCategories(categories: CategoryInput[]): Promise<unknown>;
  upsertProducts(products: ProductInput[]): Promise<unknown>;
  submit(calls: DemoCall[]): Promise<unknown>;
};

export type DemoOptions = {
  seed: number;
  shoppers: number;
  days: number;
  products: number;
  /** First instant of the simulated period; by default the period ends at today's midnight (UTC). */
  start?: number | Date | string;
  /** Calls per `submit` (default 20,000: bulk appends are cheaper per event in large batches). */
  batchSize?: number;
};

/**
 * What `npm start` loads: big enough to make every dashboard interesting. Sized so the first start, through
 * the real consent ledger and ingestion pipeline (one durable commit per consent decision and vault write),
 * finishes in about 20 s on a 2-core machine; `candor demo --shoppers N --days D` loads more.
 */
export const DEMO_DEFAULTS = { seed: 42, shoppers: 500, days: 30, products: 3000 } as const;

/** What the demo needs from the consent module (its service, as `index.ts` exports it). */
export type DemoConsent = {
  record(input: RecordDecisionInput): Promise<{ consentId: string }>;
  signalGpc(
    subjectIds: readonly string[],
    options: { channel: string | null; actor: string; at?: number },
  ): Promise<unknown>;
  getNotice(version: string): Promise<unknown>;
  publishNotice(version: string, texts: Record<string, string>, actor: string): Promise<unknown>;
};

/** What the demo needs from the ingest module: its in-process front door. */
export type DemoIngest = {
  ingestWithKey(
    writeKey: string,
    request: { messages: readonly unknown[]; receivedAt?: readonly number[] },
  ): Promise<IngestOutcome & { sourceId: string }>;
};

export type DemoPipelineDeps = {
  consent: DemoConsent;
  ingest: DemoIngest;
  pseudonymize: Pseudonymizer;
  /** A write key of the demo source (created through the auth module). */
  writeKey: string;
  sourceId: string;
  /** The text of the notice the demo banner shows, published under the demo's notice version if missing. */
  noticeTexts: Record<string, string>;
};

export type DemoPipelineStats = {
  /** Consent decisions recorded in the ledger (GPC opt-outs included). */
  consentDecisions: number;
  accepted: number;
  /** Dropped by the pipeline (no consent, bots), counted per reason by the ingest module. */
  dropped: number;
  quarantined: number;
};

export type DemoPipeline = {
  submit(calls: readonly DemoCall[]): Promise<DemoPipelineStats>;
  stats(): DemoPipelineStats;
};

/**
 * The demo through the real front door. Calls carry their historical time: consent decisions are recorded at
 * the time the shopper made them, and each tracking call is judged as received at its own time, so the
 * consent gate sees the ledger exactly as it stood then. Consent calls of a batch are recorded before its
 * tracking calls are ingested; the ledger is judged at event time, so a later decision never leaks backwards.
 */
export function createDemoPipeline(deps: DemoPipelineDeps): DemoPipeline {
  const totals: DemoPipelineStats = { consentDecisions: 0, accepted: 0, dropped: 0, quarantined: 0 };
  const actor = `source:${deps.sourceId}`;
  let noticeReady = false;

  async function ensureNotice(): Promise<void> {
    if (noticeReady) return;
    if ((await deps.consent.getNotice(NOTICE_VERSION)) === null)
      await deps.consent.publishNotice(NOTICE_VERSION, deps.noticeTexts, 'system:demo');
    noticeReady = true;
  }

  async function recordConsent(call: Extract<DemoCall, { kind: 'consent' }>): Promise<number> {
    const body = call.body;
    const subjectIds = subjectIdsFor(deps.pseudonymize, body);
    let n = 0;
    // As POST /v1/consent does: GPC first (opt-out of advertising and sale), explicit choices after it win.
    if (body.gpc === true || body.method === 'gpc') {
      const r = await deps.consent.signalGpc(subjectIds, { channel: deps.sourceId, actor, at: call.at });
      if (r !== null) n++;
    }
    const purposes: Partial<Record<Purpose, boolean>> = { ...body.purposes };
    if (body.method === 'gpc') for (const p of GPC_PURPOSES) delete purposes[p];
    if (Object.keys(purposes).length === 0) return n;
    await deps.consent.record({
      subjectIds,
      purposes,
      noticeVersion: body.noticeVersion,
      method: body.method === 'gpc' ? 'api' : body.method,
      locale: body.locale,
      channel: deps.sourceId,
      actor,
      decidedAt: call.at,
    });
    return n + 1;
  }

  return {
    async submit(calls) {
      await ensureNotice();
      const stats: DemoPipelineStats = { consentDecisions: 0, accepted: 0, dropped: 0, quarantined: 0 };
      const messages: unknown[] = [];
      const receivedAt: number[] = [];
      for (const call of calls) {
        if (call.kind === 'consent') {
          stats.consentDecisions += await recordConsent(call);
          continue;
        }
        // Orders come from the shop's backend as a Segment track call (`order_completed`).
        const type = call.kind === 'order' ? 'track' : call.kind;
        messages.push({ ...call.body, type });
        receivedAt.push(call.at);
      }
      if (messages.length > 0) {
        const outcome = await deps.ingest.ingestWithKey(deps.writeKey, { messages, receivedAt });
        stats.accepted = outcome.accepted;
        stats.dropped = outcome.dropped;
        stats.quarantined = outcome.quarantined;
      }
      for (const k of Object.keys(totals) as (keyof DemoPipelineStats)[]) totals[k] += stats[k];
      return stats;
    },
    stats: () => ({ ...totals }),
  };
}

export type DemoPhase = 'categories' | 'products' | 'shoppers' | 'done';
export type DemoProgress = { phase: DemoPhase; done: number; total: number };

/** Catalog module input for a demo category (ids are catalog-safe; the path is kept for products). */
export function toCategoryInput(category: DemoCategory): CategoryInput {
  return { id: category.id, parentId: category.parentId, name: { ...category.name } };
}

/** Catalog module input for a demo product: its category path becomes the ids of the category chain. */
export function toProductInput(product: DemoProduct): ProductInput {
  const [top, sub] = product.categoryPath.split('/');
  const categoryPath = sub ? [top!, `${top!}-${sub}`] : [top!];
  return {
    id: product.id,
    title: { ...product.title },
    description: { ...product.description },
    categoryPath,
    brand: product.brand,
    price: product.price,
    currency: product.currency,
    stock: product.stock,
    attributes: { ...product.attributes },
    active: true,
  };
}

/** The catalog API accepts at most this many items per upsert. */
const CATALOG_BATCH = 500;

export function defaultDemoStart(days: number, now: number = Date.now()): number {
  return Math.floor(now / DAY_MS) * DAY_MS - days * DAY_MS;
}

export async function loadDemoShop(
  target: DemoTarget,
  options: DemoOptions,
  onProgress?: (progress: DemoProgress) => void,
): Promise<DemoSummary & { catalog: { categories: number; products: number } }> {
  const start = options.start === undefined ? defaultDemoStart(options.days) : toEpochMs(options.start);
  const batchSize = options.batchSize ?? 20_000;
  const catalog: DemoCatalog = generateCatalog({ seed: options.seed, products: options.products });

  const categories = catalog.categories.map(toCategoryInput);
  onProgress?.({ phase: 'categories', done: 0, total: categories.length });
  await target.upsertCategories(categories);
  onProgress?.({ phase: 'categories', done: categories.length, total: categories.length });

  const total = catalog.products.length;
  for (let i = 0; i < total; i += CATALOG_BATCH) {
    await target.upsertProducts(catalog.products.slice(i, i + CATALOG_BATCH).map(toProductInput));
    onProgress?.({ phase: 'products', done: Math.min(total, i + CATALOG_BATCH), total });
  }

  const summary = createDemoSummary();
  let batch: DemoCall[] = [];
  let reported = -1;
  for (const call of generateShoppers({
    seed: options.seed,
    shoppers: options.shoppers,
    days: options.days,
    start,
    catalog,
  })) {
    summary.add(call);
    batch.push(call);
    if (batch.length >= batchSize) {
      await target.submit(batch);
      batch = [];
      const { shoppers } = summary.snapshot();
      if (shoppers !== reported) {
        reported = shoppers;
        onProgress?.({ phase: 'shoppers', done: shoppers, total: options.shoppers });
      }
    }
  }
  if (batch.length > 0) await target.submit(batch);
  onProgress?.({ phase: 'shoppers', done: options.shoppers, total: options.shoppers });
  onProgress?.({ phase: 'done', done: 1, total: 1 });
  return { ...summary.snapshot(), catalog: { categories: categories.length, products: total } };
}
