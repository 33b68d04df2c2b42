/**
 * Issue 4 residual-data proof: a shopper with a unique e-mail, phone, name and address browses, buys and
 * reviews; after erasure no byte of the data directory (SQLite, DuckDB, their WAL/journal files) or of the
 * logs holds any of those values or the shopper's pseudonym, and the receipt verifies.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyReceipt } from '../../src/flows/dsar-erase/index.ts';
import { createPseudonymizer } from '../../src/kernel/crypto.ts';
import { makeEvent } from '../../src/storage/contract/event-store.contract.ts';
import { allFiles, openShop, scanFor, type Shop } from './helpers.ts';

let shop: Shop | undefined;
afterEach(async () => {
  await shop?.close();
  shop?.dir.cleanup();
  shop = undefined;
});

describe('issue 4: erasure leaves no residual data', () => {
  it('erases a shopper from every store, WAL and log, and signs a receipt', async () => {
    shop = await openShop();
    const tag = randomBytes(6).toString('hex');
    // The order number is the shop's own reference, which tax law makes it keep (a declared legal hold);
    // it is not derived from the shopper's tag, so the scan below can demand that the tag is gone everywhere.
    const orderRef = `o-${randomBytes(6).toString('hex')}`;
    // Likewise the bought product's id, which the kept order's item list names.
    const boughtProduct = `p-${randomBytes(6).toString('hex')}`;
    const customerId = `cust-${tag}`;
    const anonymousId = `dev-${tag}`;
    const pii = {
      email: `zelda.${tag}@example.test`,
      phone: `+62 811 ${parseInt(tag.slice(0, 6), 16) % 10_000_000}`,
      name: `Zelda Quux${tag}`,
      address: `${tag} Jalan Melati, Bandung`,
    };
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
      properties: { product_id: boughtProduct, category: 'Hiking Boots' },
    });
    await shop.track({
      type: 'track',
      event: 'Product Viewed',
      userId: customerId,
      properties: { product_id: `p2-${tag}`, category: 'Hiking Boots' },
    });
    await shop.track({
      type: 'track',
      event: 'Order Completed',
      userId: customerId,
      properties: {
        order_id: orderRef,
        revenue: 120,
        currency: 'EUR',
        products: [{ product_id: boughtProduct, category: 'Hiking Boots' }],
      },
    });
    await shop.track({
      type: 'track',
      event: 'Product Reviewed',
      userId: customerId,
      properties: { product_id: boughtProduct, rating: 5, review_body: 'Great boots' },
    });
    await shop.waitForEvents(4);

    const token = await shop.shopperToken(customerId);
    // The data is really there before erasure: the export shows the decrypted identifiers and the events.
    const exported = await shop.call('GET', '/v1/me/export', { auth: token });
    expect(exported.status).toBe(200);
    const doc = (await exported.json()) as {
      sections: Record<string, { tables: Record<string, unknown[]> }>;
    };
    expect(JSON.stringify(doc.sections.profiles)).toContain(pii.email);
    expect(doc.sections['event-store']!.tables.events!.length).toBeGreaterThanOrEqual(4);

    const erased = await shop.call('POST', '/v1/me/erase', { auth: token, body: { jurisdiction: 'gdpr' } });
    expect(erased.status).toBe(200);
    const status = (await erased.json()) as {
      status: string;
      receipt: Parameters<typeof verifyReceipt>[0];
      targets: { status: string }[];
    };
    expect(status.status).toBe('completed');
    expect(status.targets.every((t) => t.status === 'done')).toBe(true);
    expect(verifyReceipt(status.receipt)).toBe(true);
    expect(verifyReceipt({ ...status.receipt, completedAt: status.receipt.completedAt + 1 })).toBe(false);
    // The paid order stays for tax, declared in the receipt and no longer linked to the shopper.
    const holds = (status.receipt as { legalHolds?: { holder: string }[] }).legalHolds ?? [];
    expect(holds.map((h) => h.holder)).toContain('orders');
    const kept: unknown[] = await shop.candor.stores.state.db
      .selectFrom('orders')
      .selectAll()
      .where('order_id', '=', orderRef)
      .execute();
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({ subject_id: null, email_hash: null, tracking_number: null });

    // After erasure the shopper's export is empty.
    const after = (await (await shop.call('GET', '/v1/me/export', { auth: token })).json()) as {
      sections: Record<string, { tables: Record<string, unknown[]> }>;
    };
    for (const [holder, section] of Object.entries(after.sections)) {
      for (const [table, rows] of Object.entries(section.tables)) {
        if (holder === 'privacy' && table === 'privacy_requests') continue; // the export request just made
        expect({ holder, table, rows: rows.length }).toEqual({ holder, table, rows: 0 });
      }
    }

    const dataDir = shop.candor.config.dataDir;
    const pseudonym = createPseudonymizer(shop.candor.config.secrets.pseudonymKey!)('user', customerId);
    const devicePseudonym = createPseudonymizer(shop.candor.config.secrets.pseudonymKey!)(
      'device',
      anonymousId,
    );
    await shop.close();
    expect(allFiles(dataDir).length).toBeGreaterThan(2);
    const needles = [
      pii.email,
      pii.phone,
      pii.name,
      pii.address,
      tag,
      customerId,
      pseudonym,
      devicePseudonym,
    ];
    expect(scanFor(dataDir, needles)).toEqual([]);
    // The kept order number and its item live only in the state store (the order table), not in the erased events.
    for (const hit of scanFor(dataDir, [orderRef, boughtProduct])) expect(hit.file).toMatch(/^state\.sqlite/);
  });

  it('purges an erased shopper whose events share row groups with other shoppers', async () => {
    shop = await openShop();
    const tag = randomBytes(6).toString('hex');
    const customerId = `cust-${tag}`;
    const anonymousId = `dev-${tag}`;
    const email = `yara.${tag}@example.test`;
    const events = shop.candor.stores.events;
    // Other shoppers' events before and after the erased one's, so all of them share one row group and
    // the erased shopper's rows are a small part of it (DuckDB does not rewrite such a row group on delete).
    const others = (from: number) =>
      Array.from({ length: 6_000 }, (_, i) =>
        makeEvent(from + i, {
          eventId: `bg-${tag}-${from + i}`,
          subjectId: `other-${(from + i) % 150}`,
          ts: Date.now() - 86_400_000 + from + i,
        }),
      );
    await events.append(others(0));
    expect(
      (
        await shop.call('POST', '/v1/consent', {
          body: {
            writeKey: shop.writeKey,
            userId: customerId,
            anonymousId,
            purposes: { analytics: true, personalization: true },
            noticeVersion: '1',
          },
        })
      ).status,
    ).toBe(201);
    await shop.track({ type: 'identify', userId: customerId, anonymousId, traits: { email } });
    for (const n of [1, 2, 3])
      await shop.track({
        type: 'track',
        event: 'Product Viewed',
        userId: customerId,
        anonymousId,
        properties: { product_id: `p${n}-${tag}`, category: 'Tents' },
      });
    await shop.waitForEvents(6_003);
    await events.append(others(6_000));

    const token = await shop.shopperToken(customerId);
    const erased = await shop.call('POST', '/v1/me/erase', { auth: token, body: { jurisdiction: 'gdpr' } });
    expect(erased.status).toBe(200);
    const status = (await erased.json()) as { receipt: Parameters<typeof verifyReceipt>[0] };
    // A shop this small is purged inside the erasure, so the signed receipt states the purge as done.
    expect(status.receipt.eventPurge?.status).toBe('purged');
    expect(verifyReceipt(status.receipt)).toBe(true);

    // Everyone else is still there and queryable.
    expect(await events.count()).toBe(12_000);
    expect((await events.eventsOfSubjects(['other-7'])).length).toBe(80);

    const dataDir = shop.candor.config.dataDir;
    const pseudonymize = createPseudonymizer(shop.candor.config.secrets.pseudonymKey!);
    await shop.close();
    expect(allFiles(dataDir).some((f) => f.endsWith('.duckdb'))).toBe(true);
    expect(
      scanFor(dataDir, [
        email,
        tag,
        customerId,
        pseudonymize('user', customerId),
        pseudonymize('device', anonymousId),
      ]),
    ).toEqual([]);
  });
});
