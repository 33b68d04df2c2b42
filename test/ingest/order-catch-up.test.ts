/**
 * Order records after a crash: an order event can be committed (acknowledged) while its order record,
 * made after the commit in the orders module's own queue, is not yet written when the process dies. Here
 * the events are written straight into the event store of a stopped installation, which is exactly what
 * such a crash leaves behind; the next start of the real server stack must make their records, once.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { testConfig } from '../../src/kernel/config.ts';
import { createCandor } from '../../src/server/index.ts';
import { makeEvent } from '../../src/storage/contract/event-store.contract.ts';
import { openDuckDbEventStore, openSqliteStateStore } from '../../src/storage/index.ts';
import type { EventRecord } from '../../src/storage/ports.ts';
import { makeTempDir } from '../../src/storage/testing.ts';

function orderEvent(orderId: string, receivedAt: number): EventRecord {
  return makeEvent(0, {
    eventId: `crash-${orderId}`,
    subjectId: `subj-${orderId}`,
    anonymousId: `subj-${orderId}`,
    userId: null,
    type: 'order_completed',
    purpose: 'necessary',
    ts: receivedAt,
    receivedAt,
    orderId,
    revenue: 99_000,
    currency: 'IDR',
  });
}

async function recordedOrders(dataDir: string): Promise<string[]> {
  const state = await openSqliteStateStore({ file: path.join(dataDir, 'state.sqlite') });
  try {
    const rows = (await state.db
      .selectFrom('orders' as never)
      .select(['order_id' as never])
      .execute()) as { order_id: string }[];
    return rows.map((r) => r.order_id).sort();
  } finally {
    await state.close();
  }
}

describe('order records after a crash', () => {
  it('are made at the next start for order events stored without them, once', async () => {
    const dir = makeTempDir('candor-order-catch-up');
    try {
      const config = testConfig(dir.path);
      // A first run of the installation: schema, cursor.
      await (await createCandor(config, { jobs: false })).close();
      expect(await recordedOrders(dir.path)).toEqual([]);

      // What the crash left: committed order events, no records.
      const events = await openDuckDbEventStore({ file: path.join(dir.path, 'events.duckdb') });
      const now = Date.now();
      await events.append([
        orderEvent('ord-a', now),
        orderEvent('ord-b', now + 1),
        orderEvent('ord-c', now + 2),
      ]);
      await events.close();
      expect(await recordedOrders(dir.path)).toEqual([]);

      // A process that runs no jobs (an API process) leaves the catch-up to the processes that do.
      await (await createCandor({ ...config, role: 'api' })).close();
      expect(await recordedOrders(dir.path)).toEqual([]);

      // Restart (no job runner: the catch-up at start alone), then a second restart changes nothing.
      await (await createCandor(config, { jobs: false })).close();
      expect(await recordedOrders(dir.path)).toEqual(['ord-a', 'ord-b', 'ord-c']);
      await (await createCandor(config, { jobs: false })).close();
      expect(await recordedOrders(dir.path)).toEqual(['ord-a', 'ord-b', 'ord-c']);
    } finally {
      dir.cleanup();
    }
  }, 60_000);
});
