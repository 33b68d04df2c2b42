import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, createStaff, post, signIn, startHarness, type Harness } from './harness.ts';

// Staff bulk reads of personal data are detected through the real read path (POST /v1/profiles/pii-read),
// not only when the detector is called directly.
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

describe('issue 5: bulk PII reads raise an alert', () => {
  it('alerts after many staff reads of personal data, and not before', async () => {
    const reader = await signIn(h, await createStaff(h, 'admin'));
    const officer = await signIn(h, await createStaff(h, 'owner'));
    const alerts = async () => {
      const res = await h.candor.app.request('/v1/security/alerts', { headers: as(officer, false) });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { alerts: { kind: string; subject: string }[] };
      return body.alerts.filter((a) => a.kind === 'bulk_pii_read');
    };
    const read = async (i: number) => {
      const res = await post(
        h,
        '/v1/profiles/pii-read',
        { subjectId: `subj-${i}`, purpose: 'order_support' },
        as(reader),
      );
      expect(res.status, await res.clone().text()).toBeLessThan(300);
    };
    for (let i = 0; i < 20; i++) await read(i);
    expect(await alerts()).toEqual([]);
    for (let i = 20; i < 220; i++) await read(i);
    const found = await alerts();
    expect(found.length).toBeGreaterThan(0);
    expect(found[0]!.subject).toContain('staff:');
  });
});
