/**
 * A request waiting for its group commit holds only what the commit needs. The parsed body (most of what a
 * request allocates) must be free for the collector as soon as the pipeline has turned it into events;
 * held until the acknowledgement, it outlived young-generation collections and was copied into the old
 * generation by every request that waited (`npm run bench -- ingest` records the collector's pauses).
 */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../kernel/clock.ts';
import { createPseudonymizer } from '../../kernel/crypto.ts';
import type { EventRecord, EventStore, StateStore } from '../../storage/ports.ts';
import { createIngestService } from './ingest.service.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('ingest while the group commit waits', () => {
  it('keeps no reference to the request body, and acknowledges once the events are stored', async () => {
    let release!: () => void;
    const durable = new Promise<void>((resolve) => (release = resolve));
    const accepted: EventRecord[] = [];
    let accepting!: () => void;
    const acceptCalled = new Promise<void>((resolve) => (accepting = resolve));
    const events = {
      accept: async (batch: readonly EventRecord[]) => {
        accepted.push(...batch);
        accepting();
        await durable;
      },
    } as unknown as EventStore;
    const granted = { granted: true, consentId: 'consent-1' };
    const service = createIngestService(
      {
        // Nothing here needs the state store: every event is accepted, so there is nothing to count or keep.
        state: {} as StateStore,
        events,
        clock: systemClock,
        pseudonymize: createPseudonymizer('k'.repeat(64)),
        consent: {
          stateAt: () => Promise.resolve(granted),
          cachedStateAt: () => granted,
          signalGpc: () => Promise.resolve(),
        },
        authenticateWriteKey: () => Promise.resolve({ sourceId: 'src_test' }),
      },
      { commitDelayMs: 0 },
    );

    // The messages are referenced from here only through the request handed to ingest.
    const send = () => {
      const messages = Array.from({ length: 50 }, (_, i) => ({
        type: 'track',
        event: 'Product Viewed',
        anonymousId: 'device-1',
        messageId: `m-${i}`,
        properties: { product_id: `p${i}`, price: 129_900, currency: 'IDR' },
        context: { page: { path: `/p/${i}` }, userAgent: 'Mozilla/5.0 (iPhone)' },
      }));
      return {
        body: new WeakRef(messages),
        outcome: service.ingest({ sourceId: 'src_test', messages, gpc: false }),
      };
    };
    const { body, outcome } = send();

    await acceptCalled;
    for (let i = 0; i < 10 && body.deref() !== undefined; i++) {
      await new Promise((r) => setImmediate(r));
      gc();
    }
    expect(body.deref()).toBeUndefined();

    let settled = false;
    void outcome.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    release();
    await expect(outcome).resolves.toMatchObject({ accepted: 50, dropped: 0, quarantined: 0 });
    expect(accepted.map((e) => e.path)).toEqual(Array.from({ length: 50 }, (_, i) => `/p/${i}`));
    await service.stop();
  });
});
