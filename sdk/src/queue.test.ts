import { describe, expect, it } from 'vitest';
import { createQueue, QUEUE_KEY, type QueueItem } from './queue.ts';
import { manualRuntime, memoryKV, recordingTransport, sentMessageIds, settle } from './testing.ts';

const options = { writeKey: 'wk_test', flushAt: 3, flushIntervalMs: 5000 };

function event(id: string, extra: Record<string, unknown> = {}): QueueItem {
  return { i: id, b: { type: 'track', messageId: id, anonymousId: 'a1', event: 'page_view', ...extra } };
}

describe('the persisted queue', () => {
  it('sends a batch once flushAt events wait, with the write key and a sentAt on each', async () => {
    const kv = memoryKV();
    const t = recordingTransport();
    const q = createQueue(kv, t, manualRuntime(), options);
    q.push(event('m1'));
    q.push(event('m2'));
    expect(t.sent).toHaveLength(0);
    q.push(event('m3'));
    await settle();
    expect(t.sent).toHaveLength(1);
    expect(t.sent[0]!.path).toBe('/v1/batch');
    expect(t.sent[0]!.body.writeKey).toBe('wk_test');
    expect(sentMessageIds(t.sent)).toEqual(['m1', 'm2', 'm3']);
    expect((t.sent[0]!.body.batch as { sentAt: string }[]).every((m) => typeof m.sentAt === 'string')).toBe(
      true,
    );
    expect(kv.get(QUEUE_KEY)).toBeNull();
  });

  it('sends fewer than flushAt events after the flush interval', async () => {
    const rt = manualRuntime();
    const t = recordingTransport();
    const q = createQueue(memoryKV(), t, rt, options);
    q.push(event('m1'));
    await rt.advance(4999);
    expect(t.sent).toHaveLength(0);
    await rt.advance(1);
    expect(sentMessageIds(t.sent)).toEqual(['m1']);
  });

  it('survives a reload: a new page sends what the old one could not, each messageId once', async () => {
    const kv = memoryKV();
    const down = recordingTransport('retry');
    const first = createQueue(kv, down, manualRuntime(), options);
    ['m1', 'm2', 'm3', 'm4'].forEach((id) => first.push(event(id)));
    await settle();
    expect(first.size()).toBe(4);

    const up = recordingTransport();
    const second = createQueue(kv, up, manualRuntime(), options);
    await second.flush();
    expect(sentMessageIds(up.sent)).toEqual(['m1', 'm2', 'm3', 'm4']);
    expect(second.size()).toBe(0);
  });

  it('retries with exponential backoff and jitter, and new events wait for the retry', async () => {
    const rt = manualRuntime();
    const t = recordingTransport();
    t.results.push('retry', 'retry');
    const q = createQueue(memoryKV(), t, rt, options);
    ['m1', 'm2', 'm3'].forEach((id) => q.push(event(id)));
    await settle();
    expect(t.sent).toHaveLength(1);
    const [first] = rt.delays.slice(-1);
    expect(first).toBeGreaterThanOrEqual(500);
    expect(first).toBeLessThanOrEqual(1000);

    ['m4', 'm5', 'm6'].forEach((id) => q.push(event(id)));
    await settle();
    expect(t.sent).toHaveLength(1);

    await rt.advance(first!);
    expect(t.sent).toHaveLength(2);
    const [second] = rt.delays.slice(-1);
    expect(second).toBeGreaterThanOrEqual(1000);
    expect(second).toBeLessThanOrEqual(2000);

    await rt.advance(second!);
    const ids = sentMessageIds(t.sent.slice(2));
    expect(ids).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    expect(q.size()).toBe(0);
  });

  it('resends the same messageIds after a lost response, so the server can drop the duplicates', async () => {
    const rt = manualRuntime();
    const t = recordingTransport();
    t.results.push('retry');
    const q = createQueue(memoryKV(), t, rt, options);
    ['m1', 'm2', 'm3'].forEach((id) => q.push(event(id)));
    await settle();
    await rt.advance(1000);
    expect(t.sent).toHaveLength(2);
    expect(t.sent[1]!.body.batch).toHaveLength(3);
    expect(sentMessageIds([t.sent[1]!])).toEqual(sentMessageIds([t.sent[0]!]));
  });

  it('drops a batch the server refused for good instead of resending it forever', async () => {
    const t = recordingTransport();
    t.results.push('drop');
    const q = createQueue(memoryKV(), t, manualRuntime(), options);
    ['m1', 'm2', 'm3'].forEach((id) => q.push(event(id)));
    await settle();
    expect(q.size()).toBe(0);
    q.push(event('m4'));
    await q.flush();
    expect(sentMessageIds(t.sent)).toEqual(['m1', 'm2', 'm3', 'm4']);
  });

  it('sends nothing while offline and everything once the network is back', async () => {
    const rt = manualRuntime();
    rt.isOnline = false;
    const t = recordingTransport();
    const q = createQueue(memoryKV(), t, rt, options);
    ['m1', 'm2', 'm3', 'm4'].forEach((id) => q.push(event(id)));
    await q.flush();
    await rt.advance(60_000);
    expect(t.sent).toHaveLength(0);
    rt.isOnline = true;
    q.resume();
    await settle();
    expect(sentMessageIds(t.sent)).toEqual(['m1', 'm2', 'm3', 'm4']);
  });

  it('sends a consent decision alone and before the events queued after it', async () => {
    const t = recordingTransport();
    const q = createQueue(memoryKV(), t, manualRuntime(), { ...options, flushAt: 100 });
    q.push({ i: 'c1', c: 1, b: { anonymousId: 'a1', purposes: { analytics: true } } });
    q.push(event('m1'));
    await q.flush();
    expect(t.sent.map((s) => s.path)).toEqual(['/v1/consent', '/v1/batch']);
    expect(t.sent[0]!.body).toMatchObject({ anonymousId: 'a1', writeKey: 'wk_test' });
  });

  it('dates events queued behind a consent decision no earlier than its acknowledgement', async () => {
    const rt = manualRuntime();
    const t = recordingTransport();
    const q = createQueue(memoryKV(), t, rt, { ...options, flushAt: 100 });
    const acknowledgedAt = new Date(rt.now()).toISOString();
    const clickedBefore = new Date(rt.now() - 1000).toISOString();
    q.push(event('m0', { timestamp: clickedBefore }));
    q.push({ i: 'c1', c: 1, b: { anonymousId: 'a1' } });
    q.push(event('m1', { timestamp: clickedBefore }));
    await q.flush();
    const batch = t.sent
      .filter((s) => s.path === '/v1/batch')
      .flatMap((s) => s.body.batch as { timestamp: string }[]);
    // m0 went before the decision and keeps its time; m1 waited behind it and is dated at the acknowledgement.
    expect(batch.map((m) => m.timestamp)).toEqual([clickedBefore, acknowledgedAt]);
  });

  it('keeps each request under the 64 KB keepalive limit and the stored queue under its cap', async () => {
    const kv = memoryKV();
    const t = recordingTransport('retry');
    const q = createQueue(kv, t, manualRuntime(), { ...options, flushAt: 1000, maxItems: 50 });
    const big = 'x'.repeat(5000);
    for (let i = 0; i < 60; i++) q.push(event(`m${i}`, { properties: { note: big } }));
    expect(q.size()).toBe(50);
    expect((JSON.parse(kv.get(QUEUE_KEY)!) as QueueItem[])[0]!.i).toBe('m10');
    t.results.length = 0;
    const ok = recordingTransport();
    const q2 = createQueue(kv, ok, manualRuntime(), options);
    await q2.flush();
    expect(ok.sent.length).toBeGreaterThan(1);
    for (const s of ok.sent) expect(JSON.stringify(s.body).length).toBeLessThan(64_000);
    expect(new Set(sentMessageIds(ok.sent)).size).toBe(50);
  });

  it('hands what is left to the beacon on page exit, keeping it stored only while the server fails', async () => {
    const kv = memoryKV();
    const healthy = recordingTransport();
    const q = createQueue(kv, healthy, manualRuntime(), { ...options, flushAt: 100 });
    q.push(event('m1'));
    q.unload();
    expect(healthy.sent.filter((s) => s.beacon)).toHaveLength(1);
    expect(q.size()).toBe(0);

    const failing = recordingTransport('retry');
    const q2 = createQueue(kv, failing, manualRuntime(), options);
    ['m2', 'm3', 'm4'].forEach((id) => q2.push(event(id)));
    await settle();
    q2.unload();
    expect(failing.sent.filter((s) => s.beacon)).toHaveLength(1);
    expect(q2.size()).toBe(3);
  });

  it('clear() forgets every entry and stops the retries', async () => {
    const kv = memoryKV();
    const rt = manualRuntime();
    const t = recordingTransport('retry');
    const q = createQueue(kv, t, rt, options);
    ['m1', 'm2', 'm3'].forEach((id) => q.push(event(id)));
    await settle();
    q.clear();
    expect(kv.data.size).toBe(0);
    await rt.advance(120_000);
    expect(t.sent).toHaveLength(1);
  });
});
