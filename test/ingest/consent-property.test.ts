/**
 * Property (issue 3): simulated shoppers with random consent histories (grant, withdraw, GPC, re-grant)
 * and random events. Invariants: no event is stored for a purpose without consent at event time, and
 * every stored event names the ledger record that allowed it (the latest analytics decision before it).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/kernel/clock.ts';
import { createPseudonymizer } from '../../src/kernel/crypto.ts';
import { startHarness, type Harness } from './harness.ts';

const SHOPPERS_PER_RUN = 2_500;
const RUNS = 4; // 10,000 shoppers in all
const START = Date.parse('2025-05-01T00:00:00Z');

type Step =
  | { kind: 'decide'; at: number; analytics: boolean; advertising: boolean | undefined }
  | { kind: 'gpc'; at: number }
  | { kind: 'event'; at: number; name: string };

const EVENT_NAMES = [
  'Product Viewed',
  'Products Searched',
  'Product Added',
  'Order Completed',
  'page_leave',
  'page',
];

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('decide' as const),
    at: fc.integer({ min: 0, max: 3_600_000 }),
    analytics: fc.boolean(),
    advertising: fc.option(fc.boolean(), { nil: undefined }),
  }),
  fc.record({ kind: fc.constant('gpc' as const), at: fc.integer({ min: 0, max: 3_600_000 }) }),
  fc.record({
    kind: fc.constant('event' as const),
    at: fc.integer({ min: 0, max: 3_600_000 }),
    name: fc.constantFrom(...EVENT_NAMES),
  }),
);

const shopperArb = fc.record({
  identified: fc.boolean(),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 7 }),
});

let h: Harness;
const clock = fixedClock(new Date(START));
beforeAll(async () => {
  h = await startHarness({ clock, inMemoryDisk: true });
});
afterAll(async () => {
  await h?.close();
});

describe('consent-gated ingestion, property', () => {
  it(`stores nothing without consent at event time, for ${SHOPPERS_PER_RUN * RUNS} shoppers`, async () => {
    const pseudo = createPseudonymizer(h.candor.config.secrets.pseudonymKey!);
    let run = 0;
    let totalStored = 0;
    let totalDropped = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(shopperArb, { minLength: SHOPPERS_PER_RUN, maxLength: SHOPPERS_PER_RUN }),
        async (shoppers) => {
          run++;
          const base = START + run * 4 * 3_600_000;
          // The ledger as the oracle sees it: per device pseudonym, analytics decisions with their times and ids.
          const truth = new Map<string, { at: number; granted: boolean; consentId: string }[]>();
          const timeline = shoppers.flatMap((s, i) =>
            s.steps.map((step) => ({ step, shopper: i, identified: s.identified })),
          );
          timeline.sort((a, b) => a.step.at - b.step.at);
          const ids = (i: number, identified: boolean) => ({
            anonymousId: `r${run}-dev-${i}`,
            ...(identified ? { userId: `r${run}-cust-${i}` } : {}),
          });

          // Decisions happen live, in time order; events are sent afterwards with their own timestamps.
          const events: { body: Record<string, unknown>; device: string; at: number; name: string }[] = [];
          for (const { step, shopper, identified } of timeline) {
            const who = ids(shopper, identified);
            const subjectIds = [
              ...(who.userId ? [pseudo('user', who.userId)] : []),
              pseudo('device', who.anonymousId),
            ];
            const device = pseudo('device', who.anonymousId);
            if (step.kind === 'event') {
              events.push({
                device,
                at: base + step.at,
                name: step.name,
                body: {
                  ...who,
                  messageId: `r${run}-${events.length}`,
                  timestamp: new Date(base + step.at).toISOString(),
                  ...(step.name === 'page' ? { type: 'page' } : { type: 'track', event: step.name }),
                  properties: { product_id: 'p1', order_id: 'o1' },
                },
              });
              continue;
            }
            clock.set(new Date(base + step.at));
            if (step.kind === 'gpc') {
              await h.consent.service.signalGpc(subjectIds, { channel: h.sourceId, actor: 'test' });
              continue;
            }
            const purposes = {
              analytics: step.analytics,
              ...(step.advertising === undefined ? {} : { advertising: step.advertising }),
            };
            const record = await h.consent.service.record({
              subjectIds,
              purposes,
              noticeVersion: '1',
              method: 'banner',
              locale: 'en',
              channel: h.sourceId,
              actor: 'test',
            });
            const list = truth.get(device) ?? [];
            list.push({ at: record.decidedAt, granted: step.analytics, consentId: record.consentId });
            truth.set(device, list);
          }

          clock.set(new Date(base + 3 * 3_600_000));
          let accepted = 0;
          let dropped = 0;
          for (let i = 0; i < events.length; i += 500) {
            const outcome = await h.ingest.service.ingest({
              sourceId: h.sourceId,
              messages: events.slice(i, i + 500).map((e) => e.body),
              gpc: false,
            });
            accepted += outcome.accepted;
            dropped += outcome.dropped;
            expect(outcome.quarantined).toBe(0);
          }

          const expectedConsent = (device: string, at: number) => {
            const decisions = (truth.get(device) ?? []).filter((d) => d.at <= at);
            return decisions.at(-1) ?? null;
          };
          let expectedStored = 0;
          for (const e of events) {
            const c = expectedConsent(e.device, e.at);
            if (e.name === 'Order Completed' || c?.granted) expectedStored++;
          }
          expect(accepted).toBe(expectedStored);
          expect(accepted + dropped).toBe(events.length);

          const devices = [...new Set(events.map((e) => e.device))];
          const stored = [];
          for (let i = 0; i < devices.length; i += 1000) {
            stored.push(
              ...(await h.candor.stores.events.db
                .selectFrom('events')
                .select(['anonymous_id', 'ts', 'type', 'purpose', 'consent_id'])
                .where('anonymous_id', 'in', devices.slice(i, i + 1000))
                .execute()),
            );
          }
          expect(stored).toHaveLength(expectedStored);
          for (const row of stored) {
            const at = new Date(row.ts).getTime();
            const c = expectedConsent(row.anonymous_id!, at);
            if (row.purpose === 'necessary') {
              expect(row.type).toBe('order_completed');
              expect(c?.granted ?? false).toBe(false);
              expect(row.consent_id).toBeNull();
            } else {
              // The record named on the event is exactly the ledger's latest analytics decision before it.
              expect(row.purpose).toBe('analytics');
              expect(c).not.toBeNull();
              expect(c!.granted).toBe(true);
              expect(row.consent_id).toBe(c!.consentId);
            }
          }
          totalStored += accepted;
          totalDropped += dropped;
        },
      ),
      { numRuns: RUNS, endOnFailure: true },
    );
    // The generator exercised both outcomes.
    expect(totalStored).toBeGreaterThan(1000);
    expect(totalDropped).toBeGreaterThan(1000);
  }, 240_000);
});
