/**
 * Issue 4 in server mode: the state store and the event store on PostgreSQL (CANDOR_TEST_PG_URL; the suite
 * fails when it is missing). Export completeness, erasure with a verified receipt and no row left in any
 * table of the schema that holds the shopper's values or pseudonyms, and the personal-data coverage check
 * enumerating the PostgreSQL tables.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyReceipt } from '../../src/flows/dsar-erase/index.ts';
import { createPseudonymizer } from '../../src/kernel/crypto.ts';
import { checkCoverage } from '../../src/modules/privacy/index.ts';
import {
  createTestPgSchema,
  makeTempDir,
  requirePgUrl,
  type TestPgSchema,
} from '../../src/storage/testing.ts';
import { openShop, type Shop } from './helpers.ts';

let url: string;
let schema: TestPgSchema;
let shop: Shop;
const tag = randomBytes(6).toString('hex');
const customerId = `cust-${tag}`;
const anonymousId = `dev-${tag}`;
const pii = {
  email: `pg.${tag}@example.test`,
  phone: `+62 812 ${parseInt(tag.slice(0, 6), 16) % 10_000_000}`,
  name: `Pg Shopper${tag}`,
  address: `${tag} Jalan Kenanga, Medan`,
};

beforeAll(async () => {
  url = requirePgUrl();
  schema = await createTestPgSchema(url);
  shop = await openShop(makeTempDir('candor-privacy-pg'), undefined, {
    pg: { url, schema: schema.schema },
  });
});
afterAll(async () => {
  await shop?.close();
  shop?.dir.cleanup();
  await schema?.drop();
});

/** Every table of the schema whose row text contains one of the needles, with the count. */
async function rowsContaining(needles: readonly string[]): Promise<{ table: string; needle: string }[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = await client.query<{ table_name: string }>(
      `select table_name from information_schema.tables where table_schema = $1 and table_type = 'BASE TABLE'`,
      [schema.schema],
    );
    const hits: { table: string; needle: string }[] = [];
    for (const { table_name } of tables.rows) {
      for (const needle of needles) {
        const r = await client.query<{ n: string }>(
          `select count(*) as n from "${schema.schema}"."${table_name}" t where t::text like $1`,
          [`%${needle}%`],
        );
        if (Number(r.rows[0]?.n ?? 0) > 0) hits.push({ table: table_name, needle });
      }
    }
    return hits;
  } finally {
    await client.end();
  }
}

describe('data-subject rights on PostgreSQL', () => {
  it('runs on PostgreSQL for both stores', () => {
    expect(shop.candor.stores.state.dialect).toBe('postgres');
    expect(shop.candor.stores.events.dialect).toBe('postgres');
  });

  it('exports every holder’s section, then erases the shopper from every table with a signed receipt', async () => {
    const consent = await shop.call('POST', '/v1/consent', {
      body: {
        writeKey: shop.writeKey,
        userId: customerId,
        anonymousId,
        purposes: { analytics: true, personalization: true },
        noticeVersion: '1',
      },
    });
    expect(consent.status).toBe(201);
    await shop.track({ type: 'identify', userId: customerId, anonymousId, traits: pii });
    await shop.track({
      type: 'track',
      event: 'Product Viewed',
      userId: customerId,
      anonymousId,
      properties: { product_id: `p-${tag}`, category: 'Tents' },
    });
    await shop.track({
      type: 'track',
      event: 'Order Completed',
      userId: customerId,
      properties: {
        order_id: `o-${tag}`,
        revenue: 99,
        currency: 'EUR',
        products: [{ product_id: `p-${tag}` }],
      },
    });
    await shop.waitForEvents(2);
    const token = await shop.shopperToken(customerId);

    const res = await shop.call('GET', '/v1/me/export', { auth: token });
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { sections: Record<string, { tables: Record<string, unknown[]> }> };
    const holders = shop.privacy.registry.list().map((h) => h.describe().name);
    expect(Object.keys(doc.sections).sort()).toEqual([...holders].sort());
    for (const name of ['profiles', 'consent', 'event-store']) {
      const rows = Object.values(doc.sections[name]!.tables).reduce((n, r) => n + r.length, 0);
      expect({ name, hasRows: rows > 0 }).toEqual({ name, hasRows: true });
    }
    expect(JSON.stringify(doc.sections.profiles)).toContain(pii.email);
    expect(doc.sections['event-store']!.tables.events!.length).toBeGreaterThanOrEqual(2);

    const pseudonymize = createPseudonymizer(shop.candor.config.secrets.pseudonymKey!);
    const needles = [
      customerId,
      pseudonymize('user', customerId),
      pseudonymize('device', anonymousId),
      `o-${tag}`,
    ];
    expect((await rowsContaining(needles)).length).toBeGreaterThan(0);

    const erased = await shop.call('POST', '/v1/me/erase', { auth: token, body: { jurisdiction: 'ccpa' } });
    expect(erased.status).toBe(200);
    const status = (await erased.json()) as {
      status: string;
      receipt: Parameters<typeof verifyReceipt>[0];
    };
    expect(status.status).toBe('completed');
    expect(verifyReceipt(status.receipt)).toBe(true);
    expect(status.receipt.targets.find((t) => t.target === 'holder:event-store')?.deleted).toBeGreaterThan(0);

    // What remains is the order number in the order table, kept for tax and declared in the receipt,
    // without any link to the shopper.
    expect(await rowsContaining(needles)).toEqual([{ table: 'orders', needle: `o-${tag}` }]);
    const holds = (status.receipt as { legalHolds?: { holder: string }[] }).legalHolds ?? [];
    expect(holds.map((h) => h.holder)).toContain('orders');
    const kept: unknown[] = await shop.candor.stores.state.db
      .selectFrom('orders')
      .selectAll()
      .where('order_id', '=', `o-${tag}`)
      .execute();
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({ subject_id: null, email_hash: null, tracking_number: null });
    const after = (await (await shop.call('GET', '/v1/me/export', { auth: token })).json()) as {
      sections: Record<string, { tables: Record<string, unknown[]> }>;
    };
    for (const [holder, section] of Object.entries(after.sections))
      for (const [table, rows] of Object.entries(section.tables)) {
        if (holder === 'privacy' && table === 'privacy_requests') continue; // the export request just made
        expect({ holder, table, rows: rows.length }).toEqual({ holder, table, rows: 0 });
      }
  });

  it('retention deletes expired events on PostgreSQL and runs the purge (VACUUM) as an erasure does', async () => {
    const old = `old-${tag}`;
    const ts = Date.now() - 800 * 86_400_000;
    await shop.candor.stores.events.append([
      {
        eventId: `ev-${randomBytes(6).toString('hex')}`,
        sourceId: 'src_pg',
        subjectId: old,
        anonymousId: old,
        userId: null,
        sessionId: null,
        type: 'page_view',
        purpose: 'analytics',
        consentId: null,
        ts,
        receivedAt: ts,
        path: '/',
        referrer: null,
        productId: null,
        category: null,
        query: null,
        orderId: null,
        revenue: null,
        currency: null,
        quantity: null,
        deviceClass: null,
        country: null,
        region: null,
        utmSource: null,
        props: '{}',
      },
    ]);
    expect((await rowsContaining([old])).map((h) => h.table)).toContain('events');
    const result = await shop.privacy.retention.run();
    const anon = result.find((r) => r.dataClass === 'events.anonymous')!;
    expect(anon.eventsDeleted).toBe(1);
    expect(anon.eventPurge?.status).toBe('purged');
    expect(await rowsContaining([old])).toEqual([]);
    expect(await shop.privacy.purges.pending()).toEqual([]);
  });

  it('finds no PostgreSQL column holding a subject id or personal data that no holder covers', async () => {
    const report = await checkCoverage(shop.privacy.registry, shop.candor.stores);
    expect(report.covered.some((c) => c.store === 'events' && c.table === 'events')).toBe(true);
    expect(report.covered.some((c) => c.store === 'state' && c.table === 'pii_vault')).toBe(true);
    expect(report.uncovered).toEqual([]);
    expect(report.missingTables).toEqual([]);
  });
});
