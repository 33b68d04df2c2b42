import { describe, expect, it } from 'vitest';
import { createClient, type ClientEnv } from './client.ts';
import { QUEUE_KEY } from './queue.ts';
import { manualRuntime, memoryKV, recordingTransport, sentMessageIds, settle } from './testing.ts';

function setup(opts: { gpc?: boolean; kv?: ReturnType<typeof memoryKV> } = {}) {
  const kv = opts.kv ?? memoryKV();
  const rt = manualRuntime();
  const transport = recordingTransport();
  const env: ClientEnv = {
    ...rt,
    kv,
    transport: () => transport,
    gpc: () => opts.gpc ?? false,
    context: () => ({ page: { path: '/shoes' }, locale: 'en-GB' }),
  };
  const client = createClient(env);
  client.init({ writeKey: 'wk_test', host: 'https://candor.test/', noticeVersion: 'v3', flushAt: 100 });
  return { client, kv, rt, transport };
}

describe('before consent', () => {
  it('stores nothing, sends nothing and creates no id', async () => {
    const { client, kv, rt, transport } = setup();
    expect(client.page()).toBeUndefined();
    expect(client.track('add_to_cart', { product_id: 'p1' })).toBeUndefined();
    expect(client.identify('cust-1', { plan: 'gold' })).toBeUndefined();
    client.productViewed({ product_id: 'p1' });
    client.reset();
    await client.flush();
    await rt.advance(600_000);
    expect(kv.data.size).toBe(0);
    expect(transport.sent).toHaveLength(0);
    expect(client.consent.get()).toBeNull();
  });

  it('a shopper who declines everything is neither stored nor sent', async () => {
    const { client, kv, rt, transport } = setup({ gpc: true });
    client.consent.set({ analytics: false });
    client.track('search', { query: 'boots' });
    await rt.advance(600_000);
    expect(kv.data.size).toBe(0);
    expect(transport.sent).toHaveLength(0);
    expect(client.consent.get()).toMatchObject({ analytics: false, advertising: false });
  });
});

describe('after consent', () => {
  it('records the decision first (with GPC), then sends the automatic page_view and the events', async () => {
    const { client, kv, transport } = setup({ gpc: true });
    client.consent.set({ analytics: true, personalization: true });
    const id = client.searched('boots', 12);
    await client.flush();
    expect(transport.sent.map((s) => s.path)).toEqual(['/v1/consent', '/v1/batch']);
    const consent = transport.sent[0]!.body;
    expect(consent).toEqual({
      anonymousId: expect.any(String),
      purposes: {
        analytics: true,
        personalization: true,
        marketing_email: false,
        marketing_push: false,
        advertising: false,
        sale: false,
      },
      noticeVersion: 'v3',
      method: 'banner',
      locale: 'en-GB',
      gpc: true,
      writeKey: 'wk_test',
    });
    const batch = transport.sent[1]!.body.batch as Record<string, unknown>[];
    expect(batch.map((m) => [m.type, m.event])).toEqual([
      ['page', undefined],
      ['track', 'search'],
    ]);
    expect(batch[1]).toMatchObject({
      messageId: id,
      anonymousId: consent.anonymousId,
      properties: { query: 'boots', results_count: 12 },
      context: { page: { path: '/shoes' } },
    });
    expect(kv.get(QUEUE_KEY)).toBeNull();
    expect(kv.keys()).toEqual(['candor.s']);
  });

  it('keeps its anonymous id and consent across a reload', async () => {
    const first = setup();
    first.client.consent.set({ analytics: true });
    await first.client.flush();
    const anonymousId = first.transport.sent[0]!.body.anonymousId;

    const second = setup({ kv: first.kv });
    second.client.track('product_shared', { product_id: 'p9' });
    await second.client.flush();
    expect(second.transport.sent.map((s) => s.path)).toEqual(['/v1/batch']);
    const batch = second.transport.sent[0]!.body.batch as Record<string, unknown>[];
    expect(batch.map((m) => m.type)).toEqual(['page', 'track']);
    expect(batch.every((m) => m.anonymousId === anonymousId)).toBe(true);
  });

  it('personalization alone allows identify but no behaviour events', async () => {
    const { client, transport } = setup();
    client.consent.set({ personalization: true });
    expect(client.track('page_view')).toBeUndefined();
    expect(client.identify('cust-1')).toEqual(expect.any(String));
    await client.flush();
    const batch = transport.sent.find((s) => s.path === '/v1/batch')!.body.batch as Record<string, unknown>[];
    expect(batch.map((m) => [m.type, m.userId])).toEqual([['identify', 'cust-1']]);
  });

  it('the helpers send DESIGN vocabulary event names', async () => {
    const { client, transport } = setup();
    client.consent.set({ analytics: true });
    const product = { product_id: 'p1', price: 125_000, currency: 'IDR' };
    client.productViewed(product);
    client.searchClicked('boots', 'p1', 3);
    client.addedToCart(product, 2);
    client.removedFromCart(product);
    client.checkoutStarted({ value: 250_000, currency: 'IDR' });
    client.orderCompleted({ order_id: 'o1', revenue: 250_000, currency: 'IDR', products: [product] });
    await client.flush();
    const batch = transport.sent.find((s) => s.path === '/v1/batch')!.body.batch as Record<string, unknown>[];
    expect(batch.filter((m) => m.type === 'track').map((m) => m.event)).toEqual([
      'product_view',
      'search_click',
      'add_to_cart',
      'remove_from_cart',
      'checkout_started',
      'order_completed',
    ]);
    expect(batch[2]!.properties).toEqual({ query: 'boots', product_id: 'p1', position: 3 });
    expect(batch[3]!.properties).toMatchObject({ product_id: 'p1', quantity: 2 });
  });

  it('reset() starts a new anonymous id and records the consent for it', async () => {
    const { client, transport } = setup();
    client.consent.set({ analytics: true });
    client.identify('cust-1');
    client.reset();
    client.track('page_view');
    await client.flush();
    const consents = transport.sent.filter((s) => s.path === '/v1/consent').map((s) => s.body);
    expect(consents).toHaveLength(2);
    expect(consents[1]!.anonymousId).not.toBe(consents[0]!.anonymousId);
    expect(consents[1]!.method).toBe('api');
    const batches = transport.sent.filter((s) => s.path === '/v1/batch');
    const batch = batches[batches.length - 1]!.body.batch as Record<string, unknown>[];
    const last = batch[batch.length - 1]!;
    expect(last.anonymousId).toBe(consents[1]!.anonymousId);
    expect(last.userId).toBeUndefined();
  });
});

describe('withdrawal', () => {
  it('wipes the queue and all device storage at once and tells the server', async () => {
    const { client, kv, rt, transport } = setup();
    client.consent.set({ analytics: true });
    await client.flush();
    const anonymousId = transport.sent[0]!.body.anonymousId;
    const waiting = [client.track('add_to_cart', { product_id: 'p1' }), client.track('page_view')];
    kv.set('candor.extra', 'x');
    expect(kv.get(QUEUE_KEY)).not.toBeNull();

    client.consent.withdraw();
    expect(kv.data.size).toBe(0);
    await settle();
    const last = transport.sent[transport.sent.length - 1]!;
    expect(last.path).toBe('/v1/consent');
    expect(last.body).toMatchObject({ anonymousId, purposes: { analytics: false, personalization: false } });

    expect(client.track('page_view')).toBeUndefined();
    await client.flush();
    await rt.advance(600_000);
    const sentIds = sentMessageIds(transport.sent);
    for (const id of waiting) expect(sentIds).not.toContain(id);
    expect(kv.data.size).toBe(0);
    expect(client.consent.get()).toMatchObject({ analytics: false });
  });

  it('keeps retrying the withdrawal in memory until the server has it', async () => {
    const { client, rt, transport } = setup();
    client.consent.set({ analytics: true });
    await client.flush();
    transport.results.push('retry', 'retry');
    client.consent.withdraw();
    await rt.advance(10_000);
    const withdrawals = transport.sent.filter(
      (s) => s.path === '/v1/consent' && (s.body.purposes as { analytics: boolean }).analytics === false,
    );
    expect(withdrawals).toHaveLength(3);
    await rt.advance(600_000);
    expect(transport.sent.filter((s) => s.path === '/v1/consent')).toHaveLength(4);
  });

  it('a later consent starts over with a new anonymous id', async () => {
    const { client, transport } = setup();
    client.consent.set({ analytics: true });
    client.consent.withdraw();
    client.consent.set({ analytics: true });
    await client.flush();
    const ids = transport.sent.filter((s) => s.path === '/v1/consent').map((s) => s.body.anonymousId);
    expect(ids).toHaveLength(3);
    expect(ids[2]).not.toBe(ids[0]);
  });
});
