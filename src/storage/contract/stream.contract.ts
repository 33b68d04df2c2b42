/**
 * The stream contract: the in-process stream (memory.stream.contract.test.ts) and NATS JetStream
 * (nats.stream.server.test.ts) run exactly this code. It pins what ingestion relies on: a durable sees
 * every message published on its subject, a message is acknowledged only when its handler resolved, one
 * whose handler threw comes back, and what a stopped durable did not handle waits for it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Stream } from '../ports.ts';

export type StreamFixture = { stream: Stream; cleanup(): Promise<void> };

const msg = (id: string) => ({ id, data: new TextEncoder().encode(`payload:${id}`) });
const text = (data: Uint8Array) => new TextDecoder().decode(data);

async function waitFor(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function describeStreamContract(name: string, open: () => Promise<StreamFixture>): void {
  describe(`Stream contract: ${name}`, () => {
    let fx: StreamFixture;
    beforeEach(async () => {
      fx = await open();
    });
    afterEach(async () => {
      await fx.cleanup();
    });

    it('delivers every message to every durable, with its id and payload, including those published earlier', async () => {
      const a = new Map<string, string>();
      const b = new Map<string, string>();
      const ca = await fx.stream.consume('events', 'store', async (m) => void a.set(m.id, text(m.data)));
      const cb = await fx.stream.consume('events', 'profiles', async (m) => void b.set(m.id, text(m.data)));
      for (let i = 0; i < 50; i++) await fx.stream.publish('events', msg(`m${i}`));
      await fx.stream.publish('other', msg('x'));
      await waitFor(() => a.size === 50 && b.size === 50, 'both durables to see 50 messages');
      expect(a.get('m7')).toBe('payload:m7');
      expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
      expect(a.has('x')).toBe(false);
      await ca.stop();
      await cb.stop();
    });

    it('redelivers a message whose handler threw until it succeeds, and still delivers the rest', async () => {
      const attempts = new Map<string, number>();
      const done = new Set<string>();
      const c = await fx.stream.consume('events', 'store', async (m) => {
        const n = (attempts.get(m.id) ?? 0) + 1;
        attempts.set(m.id, n);
        if (m.id === 'bad' && n < 3) throw new Error('store down');
        done.add(m.id);
      });
      await fx.stream.publish('events', msg('bad'));
      await fx.stream.publish('events', msg('good'));
      await waitFor(() => done.has('bad') && done.has('good'), 'the failing message to succeed');
      expect(attempts.get('bad')).toBe(3);
      expect(attempts.get('good')).toBe(1);
      await c.stop();
    });

    it('keeps what a stopped durable has not handled, and does not redeliver what it acknowledged', async () => {
      const first: string[] = [];
      const c = await fx.stream.consume('events', 'store', async (m) => void first.push(m.id));
      await fx.stream.publish('events', msg('before'));
      await waitFor(() => first.length === 1, 'the first message');
      await c.stop();
      await fx.stream.publish('events', msg('while-stopped'));
      const second: string[] = [];
      const again = await fx.stream.consume('events', 'store', async (m) => void second.push(m.id));
      await waitFor(() => second.length >= 1, 'the kept message');
      // Give a wrongly redelivered message time to show up.
      await new Promise((r) => setTimeout(r, 300));
      expect(second).toEqual(['while-stopped']);
      await again.stop();
    });

    it('answers ping while open and refuses publishing once closed', async () => {
      await fx.stream.ping();
      await fx.stream.close();
      await expect(fx.stream.publish('events', msg('late'))).rejects.toMatchObject({ code: 'unavailable' });
      await expect(fx.stream.ping()).rejects.toMatchObject({ code: 'unavailable' });
    });
  });
}
