/**
 * Issue 4 shopper rights over HTTP: export completeness, interest tags visible and deletable one by one
 * (never re-derived), the personalisation switch taking effect at once, and the staff rule that an
 * unverified request can never be approved.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPseudonymizer } from '../../src/kernel/crypto.ts';
import { hasCode } from '../../src/kernel/errors.ts';
import { readTar } from '../../src/modules/privacy/index.ts';
import { openShop, type Shop } from './helpers.ts';

let shop: Shop;
const tag = randomBytes(5).toString('hex');
const customerId = `cust-${tag}`;
let token: string;

beforeAll(async () => {
  shop = await openShop();
  await shop.call('POST', '/v1/consent', {
    body: {
      writeKey: shop.writeKey,
      userId: customerId,
      purposes: { analytics: true, personalization: true },
      noticeVersion: '1',
    },
  });
  await shop.track({
    type: 'identify',
    userId: customerId,
    traits: { email: `r.${tag}@example.test`, name: `Rita ${tag}` },
  });
  for (const category of ['Hiking Boots', 'Hiking Boots', 'Tents']) {
    await shop.track({
      type: 'track',
      event: 'Product Viewed',
      userId: customerId,
      properties: { product_id: `p-${category}`, category },
    });
  }
  await shop.waitForEvents(4);
  token = await shop.shopperToken(customerId);
  await shop.profiles.profiles.refresh(
    await shop.profiles.resolveSubject(pseudonymize('user', customerId), true),
  );
});
afterAll(async () => {
  await shop.close();
  shop.dir.cleanup();
});

// The shopper guard's derivation: the customer id under the `user` namespace.
const pseudonymize = (ns: string, v: string) =>
  createPseudonymizer(shop.candor.config.secrets.pseudonymKey!)(ns, v);

describe('shopper rights', () => {
  it('exports a section for every registered holder that holds data on the shopper, as JSON and as a tar of CSVs', async () => {
    const res = await shop.call('GET', '/v1/me/export', { auth: token });
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      sections: Record<string, { tables: Record<string, unknown[]> }>;
      automatedDecisions: unknown[];
      retention: unknown[];
    };
    const holders = shop.privacy.registry.list().map((h) => h.describe().name);
    expect(Object.keys(doc.sections).sort()).toEqual([...holders].sort());
    for (const name of ['profiles', 'consent', 'event-store']) {
      const rows = Object.values(doc.sections[name]!.tables).reduce((a, r) => a + r.length, 0);
      expect({ name, hasRows: rows > 0 }).toEqual({ name, hasRows: true });
    }
    expect(doc.automatedDecisions.length).toBeGreaterThan(0);
    expect(doc.retention.length).toBe(6);
    const tar = await shop.call('GET', '/v1/me/export?format=tar', { auth: token });
    expect(tar.headers.get('content-type')).toBe('application/x-tar');
    const names = readTar(Buffer.from(await tar.arrayBuffer())).map((e) => e.name);
    expect(names).toContain('export.json');
    expect(names).toContain('csv/profiles/identifiers.csv');
    expect(names).toContain('csv/event-store/events.csv');
  });

  it('shows interest tags, deletes one for good, and stops profiling when personalisation is switched off', async () => {
    const list = async () =>
      (await (await shop.call('GET', '/v1/me/interests', { auth: token })).json()) as {
        personalised: boolean;
        interests: { tag: string }[];
        deleted: string[];
      };
    const first = await list();
    expect(first.personalised).toBe(true);
    expect(first.interests.map((t) => t.tag)).toEqual(['hiking-boots', 'tents']);

    expect((await shop.call('DELETE', '/v1/me/interests/hiking-boots', { auth: token })).status).toBe(204);
    const subject = await shop.profiles.resolveSubject(pseudonymize('user', customerId), true);
    await shop.profiles.profiles.refresh(subject);
    const second = await list();
    expect(second.interests.map((t) => t.tag)).toEqual(['tents']);
    expect(second.deleted).toEqual(['hiking-boots']);

    const off = await shop.call('PUT', '/v1/me/personalization', { auth: token, body: { enabled: false } });
    expect(await off.json()).toEqual({ enabled: false, personalised: false });
    expect(await shop.profiles.isPersonalised(subject)).toBe(false);
    await shop.profiles.profiles.refresh(subject);
    expect((await list()).interests).toEqual([]);
    expect(
      (await shop.call('PUT', '/v1/me/personalization', { auth: token, body: { enabled: 'no' } })).status,
    ).toBe(400);
  });

  it('never lets staff approve an unverified request', async () => {
    const subject = await shop.profiles.resolveSubject(pseudonymize('user', customerId), true);
    const request = await shop.privacy.service.dsar.create({
      kind: 'erase',
      jurisdiction: 'uu_pdp',
      channel: 'staff',
      subject,
    });
    expect(request.status).toBe('awaiting_verification');
    expect(request.deadlineAt - request.receivedAt).toBe(72 * 3_600_000);
    await expect(shop.privacy.service.approve(request.id, 'staff_1')).rejects.toSatisfy((e) =>
      hasCode(e, 'precondition_failed'),
    );
    expect((await shop.privacy.service.dsar.require(request.id)).status).toBe('awaiting_verification');
    expect((await shop.call('GET', '/v1/me/interests', { auth: token })).status).toBe(200);
  });

  it('rejects requests without a shopper token with the one error shape', async () => {
    const res = await shop.call('POST', '/v1/me/erase');
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
  });
});
