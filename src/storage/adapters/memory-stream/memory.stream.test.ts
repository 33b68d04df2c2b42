import { describe, expect, it } from 'vitest';
import { createMemoryStream } from './memory.stream.ts';

const msg = (id: string) => ({ id, data: new TextEncoder().encode(id) });

function waitFor(check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const poll = () => (check() ? resolve() : setTimeout(poll, 2));
    poll();
  });
}

describe('in-process stream', () => {
  it('delivers every message, in order, to every durable consumer, also those published before it subscribed', async () => {
    const stream = createMemoryStream();
    await stream.publish('events', msg('a'));
    const first: string[] = [];
    const second: string[] = [];
    const c1 = await stream.consume('events', 'store', async (m) => void first.push(m.id));
    const c2 = await stream.consume('events', 'profiles', async (m) => void second.push(m.id));
    await stream.publish('events', msg('b'));
    await stream.publish('events', msg('c'));
    await stream.publish('other', msg('x'));
    await waitFor(() => first.length === 3 && second.length === 2);
    expect(first).toEqual(['a', 'b', 'c']);
    expect(second).toEqual(['b', 'c']);
    await c1.stop();
    await c2.stop();
    await stream.close();
  });

  it('redelivers a message whose handler threw, after the delay, before later ones', async () => {
    const stream = createMemoryStream({ redeliveryDelayMs: 5 });
    const seen: string[] = [];
    let failures = 0;
    const c = await stream.consume('events', 'store', async (m) => {
      seen.push(m.id);
      if (m.id === 'a' && failures++ < 2) throw new Error('store down');
    });
    await stream.publish('events', msg('a'));
    await stream.publish('events', msg('b'));
    await waitFor(() => seen.includes('b'));
    expect(seen).toEqual(['a', 'a', 'a', 'b']);
    await c.stop();
    await stream.close();
  });

  it('keeps unacked messages for a durable that restarts, and refuses work after close', async () => {
    const stream = createMemoryStream();
    const c = await stream.consume('events', 'store', async () => {});
    await c.stop();
    await stream.publish('events', msg('kept'));
    const seen: string[] = [];
    const again = await stream.consume('events', 'store', async (m) => void seen.push(m.id));
    await waitFor(() => seen.length === 1);
    expect(seen).toEqual(['kept']);
    await expect(stream.consume('events', 'store', async () => {})).rejects.toMatchObject({
      code: 'conflict',
    });
    await again.stop();
    await stream.close();
    await expect(stream.publish('events', msg('late'))).rejects.toMatchObject({ code: 'unavailable' });
    await expect(stream.ping()).rejects.toMatchObject({ code: 'unavailable' });
  });
});
