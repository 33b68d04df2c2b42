import { describe, expect, it } from 'vitest';
import type { EventRecord } from '../../storage/ports.ts';
import { createIngestBuffer, type GroupCommit, type GroupWrite } from './ingest-buffer.ts';

const event = (eventId: string): EventRecord => ({
  eventId,
  sourceId: 'src_1',
  subjectId: 'subject',
  anonymousId: 'subject',
  userId: null,
  sessionId: null,
  type: 'page_view',
  purpose: 'analytics',
  consentId: 'c1',
  ts: 1_700_000_000_000,
  receivedAt: 1_700_000_000_000,
  path: '/',
  referrer: null,
  productId: null,
  category: null,
  query: null,
  orderId: null,
  revenue: null,
  currency: null,
  quantity: null,
  deviceClass: null,
  country: null,
  region: null,
  utmSource: null,
  props: '{}',
});

function deferred() {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const write: GroupWrite = async () => undefined;

describe('group commit buffer', () => {
  it('writes concurrent requests as one group (events, diagnostics and state writes) and acknowledges none before it committed', async () => {
    const groups: GroupCommit[] = [];
    const gate = deferred();
    const buffer = createIngestBuffer({
      maxDelayMs: 1,
      commit: async (group) => {
        groups.push(group);
        await gate.promise;
      },
    });
    const acked: string[] = [];
    const a = buffer
      .submit(
        {
          events: [event('e1'), event('e2')],
          quarantined: [],
          drops: [{ sourceId: 'src_1', reason: 'no_consent', count: 2, lastAt: 1 }],
        },
        [write],
      )
      .then(() => acked.push('a'));
    const b = buffer
      .submit(
        {
          events: [event('e2'), event('e3')],
          quarantined: [],
          drops: [{ sourceId: 'src_1', reason: 'no_consent', count: 3, lastAt: 5 }],
        },
        [write, write],
      )
      .then(() => acked.push('b'));
    while (groups.length === 0) await new Promise((r) => setTimeout(r, 2));
    expect(groups).toHaveLength(1);
    const [group] = groups;
    expect(group!.events.map((e) => e.eventId)).toEqual(['e1', 'e2', 'e3']);
    expect(group!.drops).toEqual([{ sourceId: 'src_1', reason: 'no_consent', count: 5, lastAt: 5 }]);
    expect(group!.writes).toHaveLength(3);
    await new Promise((r) => setTimeout(r, 5));
    expect(acked).toEqual([]);
    gate.resolve();
    await Promise.all([a, b]);
    expect(acked.sort()).toEqual(['a', 'b']);
    await buffer.stop();
  });

  it('fails every request of a group whose commit failed, and keeps serving the next ones', async () => {
    let fail = true;
    const committed: string[] = [];
    const buffer = createIngestBuffer({
      maxDelayMs: 1,
      commit: async (group) => {
        if (fail) throw new Error('disk full');
        committed.push(...group.events.map((e) => e.eventId));
      },
    });
    const unit = (id: string) => ({ events: [event(id)], quarantined: [], drops: [] });
    const results = await Promise.allSettled([buffer.submit(unit('x1')), buffer.submit(unit('x2'))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await buffer.submit(unit('x3'));
    expect(committed).toEqual(['x3']);
    await buffer.stop();
  });

  it('a request with only state writes (an identify whose event was dropped) still waits for its commit', async () => {
    const groups: GroupCommit[] = [];
    const buffer = createIngestBuffer({ maxDelayMs: 1, commit: async (g) => void groups.push(g) });
    await buffer.submit({ events: [], quarantined: [], drops: [] }, [write]);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.writes).toHaveLength(1);
    await buffer.stop();
  });

  it('stop() writes what is waiting, then refuses new work with a retryable error', async () => {
    const committed: string[] = [];
    const buffer = createIngestBuffer({
      maxDelayMs: 60_000,
      commit: async (group) => void committed.push(...group.events.map((e) => e.eventId)),
    });
    const pending = buffer.submit({ events: [event('s1')], quarantined: [], drops: [] });
    await buffer.stop();
    await pending;
    expect(committed).toEqual(['s1']);
    await expect(buffer.submit({ events: [event('s2')], quarantined: [], drops: [] })).rejects.toMatchObject({
      code: 'unavailable',
    });
  });
});
