/**
 * Issue 3 (ingestion throughput): identifies of concurrent requests are committed in their group's one
 * state transaction. What a shop sees must not change: every acknowledged identify has its sealed traits
 * in the vault and its device linked to the customer (with personalization consent), and nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProfilesModule } from '../../src/modules/profiles/index.ts';
import { startHarness, type Harness } from './harness.ts';

let h: Harness;
let profiles: ProfilesModule;
beforeAll(async () => {
  h = await startHarness({ inMemoryDisk: true });
  profiles = h.candor.modules.find((m) => m.name === 'profiles') as ProfilesModule;
});
afterAll(async () => {
  await h?.close();
});

describe('identify through the group commit', () => {
  it('stores the traits and links of every acknowledged identify sent at once, and only with consent', async () => {
    const shoppers = Array.from({ length: 24 }, (_, i) => ({
      userId: `cust-${i}`,
      anonymousId: `dev-gc-${i}`,
      email: `shopper${i}@example.com`,
      // Every third shopper allows analytics only: no personalization, so no identity link.
      personalization: i % 3 !== 0,
    }));
    for (const s of shoppers) {
      const r = await h.post('/v1/consent', {
        userId: s.userId,
        anonymousId: s.anonymousId,
        purposes: { analytics: true, personalization: s.personalization },
        noticeVersion: '1',
      });
      expect(r.status).toBe(201);
    }
    const responses = await Promise.all(
      shoppers.map((s) =>
        h.post('/v1/batch', {
          batch: [
            {
              type: 'identify',
              userId: s.userId,
              anonymousId: s.anonymousId,
              messageId: `id-${s.userId}`,
              traits: { email: s.email, name: 'Sari Dewi', language: 'id' },
            },
            {
              type: 'track',
              event: 'Product Viewed',
              userId: s.userId,
              anonymousId: s.anonymousId,
              messageId: `pv-${s.userId}`,
              properties: { product_id: 'p1' },
            },
          ],
        }),
      ),
    );
    for (const r of responses) {
      expect(r.status).toBe(200);
      expect(await r.json()).toMatchObject({ accepted: 2, dropped: 0, quarantined: 0 });
    }
    for (const s of shoppers) {
      const subjects = await profiles.vault.findByIdentifier('email', s.email);
      expect(subjects).toHaveLength(1);
      const identifiers = await profiles.vault.readForSubject(subjects);
      expect(identifiers).toMatchObject({ email: s.email, name: 'Sari Dewi' });
      const links = await profiles.identity.linksOf(subjects);
      expect(links.filter((l) => l.state === 'linked')).toHaveLength(s.personalization ? 1 : 0);
    }
  });
});
