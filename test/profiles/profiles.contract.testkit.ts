/**
 * Profiles behaviour every state store must carry, written once: SQLite in profiles.contract.test.ts (one
 * process answers both sides), PostgreSQL in profiles.server.test.ts (two Candor instances on one schema,
 * like two API processes). The PII vault, the identity graph with staff merges and splits, traits and
 * interest tags with their suppressions, and the personalisation switch: what a shopper or staff member
 * does through one process holds on the other for the very next request.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPseudonymizer } from '../../src/kernel/crypto.ts';
import type { Shop } from '../privacy/helpers.ts';

export type ShopPair = { a: Shop; b: Shop; close(): Promise<void> };

type Profile = {
  identifiers: Record<string, string>;
  traits: { trait: string; source: string }[];
  personalization: boolean;
};

export function profilesContract(name: string, open: () => Promise<ShopPair>): void {
  describe(`profiles (${name})`, () => {
    let p: ShopPair;
    beforeAll(async () => {
      p = await open();
    });
    afterAll(async () => p?.close());

    /** A shopper with analytics and personalisation consent, identified with contact details. */
    async function shopper() {
      const tag = randomBytes(5).toString('hex');
      const customerId = `cust-${tag}`;
      const anonymousId = `dev-${tag}`;
      const email = `shopper.${tag}@example.test`;
      const consent = await p.a.call('POST', '/v1/consent', {
        body: {
          writeKey: p.a.writeKey,
          userId: customerId,
          anonymousId,
          purposes: { analytics: true, personalization: true },
          noticeVersion: '1',
        },
      });
      expect(consent.status).toBe(201);
      const before = await p.a.candor.stores.events.count();
      await p.a.track({
        type: 'identify',
        userId: customerId,
        anonymousId,
        traits: { email, name: `N ${tag}` },
      });
      await p.a.waitForEvents(before + 1);
      const pseudo = createPseudonymizer(p.a.candor.config.secrets.pseudonymKey!);
      return {
        tag,
        customerId,
        anonymousId,
        email,
        user: pseudo('user', customerId),
        device: pseudo('device', anonymousId),
        token: await p.a.shopperToken(customerId),
      };
    }

    const profileOn = async (shop: Shop, token: string) => {
      const res = await shop.call('GET', '/v1/me/profile', { auth: token });
      expect(res.status).toBe(200);
      return (await res.json()) as Profile;
    };
    /** The shopper withdraws the consent behind personalisation, through `shop`. */
    const withdrawPersonalisation = async (shop: Shop, customerId: string) => {
      const withdrawn = await shop.call('POST', '/v1/consent', {
        body: {
          writeKey: shop.writeKey,
          userId: customerId,
          purposes: { personalization: false },
          noticeVersion: '1',
        },
      });
      expect(withdrawn.status).toBe(201);
    };
    const interestsOn = async (shop: Shop, token: string) =>
      (await (await shop.call('GET', '/v1/me/interests', { auth: token })).json()) as {
        personalised: boolean;
        interests: { tag: string }[];
        deleted: string[];
      };

    it('keeps identifiers sealed in the vault; the shopper reads and corrects them through either process', async () => {
      const s = await shopper();
      expect((await profileOn(p.b, s.token)).identifiers).toMatchObject({
        email: s.email,
        name: `N ${s.tag}`,
      });
      const fixed = `fixed.${s.tag}@example.test`;
      const patch = await p.b.call('PATCH', '/v1/me/profile', { auth: s.token, body: { email: fixed } });
      expect(patch.status).toBe(204);
      expect((await profileOn(p.a, s.token)).identifiers.email).toBe(fixed);
      expect(await p.a.profiles.findSubjectByEmail(fixed)).not.toBeNull();
      // No plaintext at rest: every vault row of the shopper is ciphertext.
      const rows = await p.a.candor.stores.state.db
        .selectFrom('pii_vault')
        .selectAll()
        .where('subject_id', 'in', [s.user, s.device])
        .execute();
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows as { ciphertext: Uint8Array }[]) {
        const bytes = Buffer.from(row.ciphertext);
        expect(bytes.includes(Buffer.from(fixed))).toBe(false);
        expect(bytes.includes(Buffer.from(`N ${s.tag}`))).toBe(false);
      }
    });

    it('links the device on identify; a staff split holds against later identifies until a merge', async () => {
      const s = await shopper();
      const linked = async (shop: Shop) => (await shop.profiles.resolveSubject(s.device)).subjectIds;
      expect(await linked(p.b)).toContain(s.user);
      await p.a.profiles.identity.split(s.device, s.user, 'stf_contract', 'shared family tablet');
      expect(await linked(p.b)).not.toContain(s.user);
      // The tag sends identify again on its next page: the split stands.
      const before = await p.b.candor.stores.events.count();
      await p.b.track({ type: 'identify', userId: s.customerId, anonymousId: s.anonymousId });
      await p.b.waitForEvents(before + 1);
      expect(await linked(p.a)).not.toContain(s.user);
      await p.b.profiles.identity.merge(s.device, s.user, 'stf_contract', 'confirmed by the shopper');
      expect(await linked(p.a)).toContain(s.user);
      await expect(
        p.a.profiles.identity.split(`dev-never-${s.tag}`, s.user, 'stf_contract', 'unknown pair'),
      ).rejects.toMatchObject({ code: 'not_found' });
    });

    it('derives interest tags from events; a tag the shopper deleted stays gone on every process', async () => {
      const s = await shopper();
      const before = await p.a.candor.stores.events.count();
      for (const category of ['Tents', 'Tents', 'Stoves']) {
        await p.a.track({
          type: 'track',
          event: 'Product Viewed',
          userId: s.customerId,
          properties: { product_id: `p-${category}-${s.tag}`, category },
        });
      }
      await p.a.waitForEvents(before + 3);
      const subject = await p.a.profiles.resolveSubject(s.user, true);
      await p.a.profiles.profiles.refresh(subject);
      expect((await interestsOn(p.b, s.token)).interests.map((i) => i.tag)).toEqual(['tents', 'stoves']);
      const del = await p.b.call('DELETE', '/v1/me/interests/tents', { auth: s.token });
      expect(del.status).toBe(204);
      await p.a.profiles.profiles.refresh(subject);
      await p.b.profiles.profiles.refresh(subject);
      const after = await interestsOn(p.a, s.token);
      expect(after.interests.map((i) => i.tag)).toEqual(['stoves']);
      expect(after.deleted).toContain('tents');
      expect((await profileOn(p.a, s.token)).traits.some((t) => t.source === 'computed')).toBe(true);
      // The serving path's read (recommendations): the same tags; none while personalisation is off on
      // either process, even a tag row that a refresh racing the switch wrote after it; none once the
      // consent behind personalisation is withdrawn, though the rows are still there.
      const tagsOn = async (shop: Shop) =>
        (await shop.profiles.profiles.interestTags(subject)).map((t) => t.tag);
      expect(await tagsOn(p.b)).toEqual(['stoves']);
      await p.a.call('PUT', '/v1/me/personalization', { auth: s.token, body: { enabled: false } });
      await p.a.candor.stores.state.db
        .insertInto('interest_tags')
        .values({ subject_id: s.user, tag: 'stoves', score: 1, updated_at: Date.now() })
        .execute();
      expect(await tagsOn(p.b)).toEqual([]);
      await p.b.call('PUT', '/v1/me/personalization', { auth: s.token, body: { enabled: true } });
      expect(await tagsOn(p.a)).toEqual(['stoves']);
      await withdrawPersonalisation(p.a, s.customerId);
      expect(await tagsOn(p.b)).toEqual([]);
    });

    it('personalisation switched off (or its consent withdrawn) on one process is honoured by the other at once', async () => {
      const s = await shopper();
      const subject = await p.a.profiles.resolveSubject(s.user, true);
      expect(await p.b.profiles.isPersonalised(subject)).toBe(true);
      const off = await p.a.call('PUT', '/v1/me/personalization', {
        auth: s.token,
        body: { enabled: false },
      });
      expect(await off.json()).toEqual({ enabled: false, personalised: false });
      expect(await p.b.profiles.isPersonalised(subject)).toBe(false);
      expect((await interestsOn(p.b, s.token)).personalised).toBe(false);
      await p.b.call('PUT', '/v1/me/personalization', { auth: s.token, body: { enabled: true } });
      expect(await p.a.profiles.isPersonalised(subject)).toBe(true);
      // Withdrawing the consent behind personalisation, through the other process, also stops it at once.
      await withdrawPersonalisation(p.b, s.customerId);
      expect(await p.a.profiles.isPersonalised(subject)).toBe(false);
    });
  });
}
