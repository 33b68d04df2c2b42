/**
 * Issue 4 rights over HTTP: rectification of contact details (PATCH /v1/me/profile), restriction of
 * processing (PUT /v1/me/restriction) and objection to profiling (PUT /v1/me/personalization), each with
 * the outcome a shopper sees and bad input answered with a 400 in the one error shape.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPseudonymizer } from '../../src/kernel/crypto.ts';
import { openShop, type Shop } from './helpers.ts';

let shop: Shop;
const tag = randomBytes(5).toString('hex');
const customerId = `cust-${tag}`;
let token: string;

type Profile = {
  identifiers: Record<string, string>;
  traits: { trait: string; source: string }[];
  personalization: boolean;
  restricted: boolean;
};

const profile = async () => {
  const res = await shop.call('GET', '/v1/me/profile', { auth: token });
  expect(res.status).toBe(200);
  return (await res.json()) as Profile;
};
const subject = () =>
  shop.profiles.resolveSubject(
    createPseudonymizer(shop.candor.config.secrets.pseudonymKey!)('user', customerId),
    true,
  );
const interests = async () =>
  (
    (await (await shop.call('GET', '/v1/me/interests', { auth: token })).json()) as {
      interests: { tag: string }[];
    }
  ).interests.map((i) => i.tag);

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
    traits: { email: `old.${tag}@example.test`, name: `Old Name ${tag}` },
  });
  for (const category of ['Tents', 'Tents', 'Stoves']) {
    await shop.track({
      type: 'track',
      event: 'Product Viewed',
      userId: customerId,
      properties: { product_id: `p-${category}`, category },
    });
  }
  await shop.waitForEvents(4);
  token = await shop.shopperToken(customerId);
  await shop.profiles.profiles.refresh(await subject());
});
afterAll(async () => {
  await shop.close();
  shop.dir.cleanup();
});

describe('rectification, restriction and objection', () => {
  it('corrects contact details, and the export and the e-mail lookup follow the correction', async () => {
    const res = await shop.call('PATCH', '/v1/me/profile', {
      auth: token,
      body: { email: `new.${tag}@example.test`, address: `${tag} Jalan Baru, Surabaya` },
    });
    expect(res.status).toBe(204);
    const p = await profile();
    expect(p.identifiers).toMatchObject({
      email: `new.${tag}@example.test`,
      name: `Old Name ${tag}`,
      address: `${tag} Jalan Baru, Surabaya`,
    });
    expect(await shop.profiles.findSubjectByEmail(`new.${tag}@example.test`)).not.toBeNull();
    expect(await shop.profiles.findSubjectByEmail(`old.${tag}@example.test`)).toBeNull();
    const exported = await (await shop.call('GET', '/v1/me/export', { auth: token })).text();
    expect(exported).toContain(`new.${tag}@example.test`);
    expect(exported).not.toContain(`old.${tag}@example.test`);
  });

  it('refuses malformed corrections with a 400 that says what to send', async () => {
    for (const body of [{}, { email: 'not-an-email' }, { phone: 'x' }]) {
      const res = await shop.call('PATCH', '/v1/me/profile', { auth: token, body });
      expect(res.status).toBe(400);
      const err = (await res.json()) as { error: { code: string; message: string; requestId: string } };
      expect(err.error.message.length).toBeGreaterThan(0);
      expect(err.error.requestId).toBeTruthy();
    }
    expect((await profile()).identifiers.email).toBe(`new.${tag}@example.test`);
  });

  it('restricts processing: computed traits and tags go and are not derived again until lifted', async () => {
    expect(await interests()).toEqual(['tents', 'stoves']);
    const on = await shop.call('PUT', '/v1/me/restriction', { auth: token, body: { restricted: true } });
    expect(await on.json()).toEqual({ restricted: true });
    const s = await subject();
    expect(await shop.profiles.isPersonalised(s)).toBe(false);
    await shop.profiles.profiles.refresh(s);
    const p = await profile();
    expect(p.restricted).toBe(true);
    expect(p.traits.filter((t) => t.source === 'computed')).toEqual([]);
    expect(await interests()).toEqual([]);

    await shop.call('PUT', '/v1/me/restriction', { auth: token, body: { restricted: false } });
    await shop.profiles.profiles.refresh(s);
    expect((await profile()).restricted).toBe(false);
    expect(await interests()).toEqual(['tents', 'stoves']);
    expect(
      (await shop.call('PUT', '/v1/me/restriction', { auth: token, body: { restricted: 'yes' } })).status,
    ).toBe(400);
  });

  it('objects to profiling: personalisation off stops it at once, on lets it resume', async () => {
    const s = await subject();
    const off = await shop.call('PUT', '/v1/me/personalization', { auth: token, body: { enabled: false } });
    expect(await off.json()).toEqual({ enabled: false, personalised: false });
    expect(await shop.profiles.isPersonalised(s)).toBe(false);
    await shop.profiles.profiles.refresh(s);
    expect(await interests()).toEqual([]);
    expect((await profile()).personalization).toBe(false);

    const on = await shop.call('PUT', '/v1/me/personalization', { auth: token, body: { enabled: true } });
    expect(await on.json()).toEqual({ enabled: true, personalised: true });
    await shop.profiles.profiles.refresh(s);
    expect(await interests()).toEqual(['tents', 'stoves']);
  });

  it('answers every one of these routes with 401 without a shopper token', async () => {
    for (const [method, url, body] of [
      ['PATCH', '/v1/me/profile', { name: 'x' }],
      ['PUT', '/v1/me/restriction', { restricted: true }],
      ['PUT', '/v1/me/personalization', { enabled: false }],
    ] as const) {
      const res = await shop.call(method, url, { body });
      expect(res.status).toBe(401);
    }
  });
});
