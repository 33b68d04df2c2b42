/**
 * The whole installation, as the composition root wires it, over HTTP (SQLite + DuckDB in `npm test`,
 * PostgreSQL in the server suite): a tracked event puts the shopper in a segment at once (no refresh job
 * runs here), a consent withdrawal takes them out, and the time zone and locale their device reported are
 * kept on the profile, used by campaigns, exported and erased with everything else.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../src/kernel/config.ts';
import { createPseudonymizer } from '../../src/kernel/crypto.ts';
import { signShopperToken, type AuthModule } from '../../src/modules/auth/index.ts';
import type { MarketingModule } from '../../src/modules/marketing/index.ts';
import type { ProfilesModule } from '../../src/modules/profiles/index.ts';
import { createCandor, type Candor } from '../../src/server/index.ts';
import { makeTempDir, type TempDir } from '../../src/storage/testing.ts';

export type StackOptions = { pg?: { url: string; schema: string } };

export function liveStackContract(
  name: string,
  options: () => Promise<StackOptions & { drop?: () => Promise<void> }>,
) {
  describe(`live segments and shopper preferences, whole stack (${name})`, () => {
    let dir: TempDir;
    let candor: Candor;
    let basic: string;
    let drop: (() => Promise<void>) | undefined;
    let marketing: MarketingModule;
    let profiles: ProfilesModule;
    const customer = `c-${Date.now().toString(36)}`;
    let subject: string;

    beforeAll(async () => {
      dir = makeTempDir('candor-live');
      const o = await options();
      drop = o.drop;
      const config = testConfig(path.join(dir.path, 'data'), {
        ...(o.pg ? { stateUrl: o.pg.url, eventsUrl: o.pg.url } : {}),
      });
      // jobs: false — nothing refreshes segments in the background; only the live path can move anyone.
      candor = await createCandor(config, {
        jobs: false,
        ...(o.pg ? { storeOptions: { pgSchema: o.pg.schema } } : {}),
      });
      const mod = <T>(n: string) => candor.modules.find((m) => m.name === n) as T;
      marketing = mod<MarketingModule>('marketing');
      profiles = mod<ProfilesModule>('profiles');
      const { writeKey } = await mod<AuthModule>('auth').keys.createSource('web', 'system:test');
      basic = `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
      subject = createPseudonymizer(candor.config.secrets.pseudonymKey!)('user', customer);
    });
    afterAll(async () => {
      await candor.close();
      await drop?.();
      dir.cleanup();
    });

    const post = (url: string, body: unknown, auth = basic) =>
      candor.app.request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: auth },
        body: JSON.stringify(body),
      });
    const consent = async (purposes: Record<string, boolean>) => {
      const r = await post('/v1/consent', { userId: customer, purposes, noticeVersion: '1' });
      expect(r.status).toBe(201);
    };

    it('a tracked event puts the shopper in a segment without any refresh', async () => {
      await consent({ analytics: true, marketing_email: true });
      await marketing.segments!.create({
        key: 'bag-viewers',
        name: 'Bag viewers',
        rule: { event: 'product_view', min: 1, withinDays: 30, category: 'Bags' },
      });
      await marketing.segments!.create({
        key: 'mailable-viewers',
        name: 'Mailable viewers',
        rule: {
          all: [
            { consent: 'marketing_email', granted: true },
            { event: 'product_view', min: 1, withinDays: 30 },
          ],
        },
      });
      expect(await marketing.segments!.members('bag-viewers')).toEqual([]);
      const r = await post('/v1/track', {
        userId: customer,
        event: 'Product Viewed',
        properties: { product_id: 'bag-1', category: 'Bags' },
        context: { timezone: 'Asia/Jakarta', locale: 'id-ID' },
      });
      expect(r.status).toBe(200);
      expect(((await r.json()) as { accepted: number }).accepted).toBe(1);
      await marketing.segments!.settled();
      expect(await marketing.segments!.members('bag-viewers')).toEqual([subject]);
      expect(await marketing.segments!.members('mailable-viewers')).toEqual([subject]);
    });

    it('a consent withdrawal takes the shopper out at once', async () => {
      await consent({ marketing_email: false });
      await marketing.segments!.settled();
      expect(await marketing.segments!.members('mailable-viewers')).toEqual([]);
      expect(await marketing.segments!.members('bag-viewers')).toEqual([subject]);
    });

    it('keeps the reported time zone and locale on the profile, exports and erases them', async () => {
      const who = await profiles.resolveSubject(subject, true);
      expect(await profiles.profiles.preferencesOf(who)).toEqual({
        timeZone: 'Asia/Jakarta',
        locale: 'id-ID',
      });
      // An invalid zone is ignored; a new valid one replaces the old.
      await post('/v1/track', {
        userId: customer,
        event: 'Product Viewed',
        properties: { product_id: 'bag-2', category: 'Bags' },
        context: { timezone: 'Not/AZone', locale: 'zh-Hans-CN' },
      });
      expect(await profiles.profiles.preferencesOf(who)).toEqual({
        timeZone: 'Asia/Jakarta',
        locale: 'zh-Hans-CN',
      });
      const token = `Bearer ${await signShopperToken(candor.config.secrets.shopperTokenSecret!, customer, 900)}`;
      const exported = await candor.app.request('/v1/me/export', { headers: { authorization: token } });
      expect(exported.status).toBe(200);
      const text = await exported.text();
      expect(text).toContain('Asia/Jakarta');
      expect(text).toContain('zh-Hans-CN');
      const erased = await post('/v1/me/erase', { jurisdiction: 'gdpr' }, token);
      expect(erased.status).toBeLessThan(300);
      expect(await profiles.profiles.preferencesOf(who)).toEqual({ timeZone: null, locale: null });
      expect(await marketing.segments!.members('bag-viewers')).toEqual([]);
    });
  });
}
