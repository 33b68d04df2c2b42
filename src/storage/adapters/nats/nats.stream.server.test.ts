import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { testEnv } from '../../../kernel/config.ts';
import { describeStreamContract } from '../../contract/stream.contract.ts';
import { createNatsStream, natsOptionsFromUrl } from './nats.stream.ts';

/** CANDOR_TEST_NATS_URL, or an error saying how to provide it (server suites fail, never skip). */
export function requireNatsUrl(): string {
  const { natsUrl } = testEnv();
  if (!natsUrl) {
    throw new Error(
      'CANDOR_TEST_NATS_URL is not set. The server-mode suites need NATS JetStream: start nats-server -js and run ' +
        'CANDOR_TEST_NATS_URL=nats://127.0.0.1:4222 npm run test:server',
    );
  }
  return natsUrl;
}

const url = requireNatsUrl();

/** Deletes a test stream (and its consumers); names are random per test. */
async function deleteStream(name: string): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(name).catch(() => undefined);
  } finally {
    await nc.close();
  }
}

const testStream = () => {
  const tag = randomBytes(4).toString('hex');
  return { stream: `CANDOR_TEST_${tag}`, subjectPrefix: `candortest.${tag}.` };
};

describeStreamContract('nats', async () => {
  const names = testStream();
  const stream = await createNatsStream({ url, ...names, redeliveryDelayMs: 20, ackWaitMs: 2_000 });
  return {
    stream,
    cleanup: async () => {
      await stream.close();
      await deleteStream(names.stream);
    },
  };
});

describe('NATS stream specifics', () => {
  it('shares one durable between processes: each message is handled by one of them', async () => {
    const names = testStream();
    const a = await createNatsStream({ url, ...names });
    const b = await createNatsStream({ url, ...names });
    try {
      const seen: string[] = [];
      const ca = await a.consume('events', 'store', async (m) => void seen.push(`a:${m.id}`));
      const cb = await b.consume('events', 'store', async (m) => void seen.push(`b:${m.id}`));
      for (let i = 0; i < 40; i++) await a.publish('events', { id: `m${i}`, data: new Uint8Array([i]) });
      const deadline = Date.now() + 10_000;
      while (seen.length < 40 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 200));
      expect(seen).toHaveLength(40);
      expect(new Set(seen.map((s) => s.slice(2))).size).toBe(40);
      await ca.stop();
      await cb.stop();
    } finally {
      await a.close();
      await b.close();
      await deleteStream(names.stream);
    }
  });

  it('redelivers what a consumer held when it vanished without acking, after the ack wait', async () => {
    const names = testStream();
    const a = await createNatsStream({ url, ...names, ackWaitMs: 1_000 });
    const b = await createNatsStream({ url, ...names, ackWaitMs: 1_000 });
    try {
      let stuck = 0;
      // A handler that never finishes: like a worker killed mid-batch, it never acks.
      await a.consume('events', 'store', () => {
        stuck += 1;
        return new Promise<void>(() => undefined);
      });
      await a.publish('events', { id: 'held', data: new Uint8Array([1]) });
      const deadline0 = Date.now() + 5_000;
      while (stuck === 0 && Date.now() < deadline0) await new Promise((r) => setTimeout(r, 20));
      expect(stuck).toBe(1);
      await a.close();
      const got: string[] = [];
      const cb = await b.consume('events', 'store', async (m) => void got.push(m.id));
      const deadline = Date.now() + 10_000;
      while (got.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(got).toEqual(['held']);
      await cb.stop();
    } finally {
      await b.close();
      await deleteStream(names.stream);
    }
  });

  it('trims nothing before the first acknowledgement: messages waiting to be delivered all arrive', async () => {
    const names = testStream();
    const stream = await createNatsStream({
      url,
      ...names,
      trimEveryMs: 50,
      ackWaitMs: 1_000,
      concurrency: 1,
    });
    try {
      for (let i = 0; i < 20; i++) await stream.publish('events', { id: `m${i}`, data: new Uint8Array(8) });
      const handled = new Set<string>();
      // The first message takes a while: trim rounds pass while nothing has been acknowledged (floor 0).
      const c = await stream.consume('events', 'store', async (m) => {
        if (m.id === 'm0') await new Promise((r) => setTimeout(r, 400));
        handled.add(m.id);
      });
      const deadline = Date.now() + 10_000;
      while (handled.size < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await c.stop();
      expect(handled.size).toBe(20);
    } finally {
      await stream.close();
    }
  });

  it('keeps accepting for good once acknowledged messages exceed the capacity, and trims nothing a durable still needs', async () => {
    const names = testStream();
    // 64 KiB of capacity, and 1 KiB messages: without trimming, publish number ~60 would be refused for a week.
    const stream = await createNatsStream({
      url,
      ...names,
      maxBytes: 64 * 1024,
      trimEveryMs: 50,
      ackWaitMs: 1_000,
    });
    const info = async () => {
      const nc = await connect({ servers: url });
      try {
        return (await (await jetstreamManager(nc)).streams.info(names.stream)).state;
      } finally {
        await nc.close();
      }
    };
    try {
      const stored = new Set<string>();
      const c = await stream.consume('events', 'store', async (m) => void stored.add(m.id));
      const payload = new Uint8Array(1024);
      for (let i = 0; i < 400; i++) {
        let done = false;
        // Backpressure while the workers catch up is allowed; a refusal that never ends is the bug.
        for (let attempt = 0; !done; attempt++) {
          try {
            await stream.publish('events', { id: `m${i}`, data: payload });
            done = true;
          } catch {
            expect(attempt).toBeLessThan(100);
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      }
      const deadline = Date.now() + 10_000;
      while (stored.size < 400 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(stored.size).toBe(400);
      // Everything was acknowledged, so the trimmer leaves the stream (almost) empty.
      const deadline2 = Date.now() + 5_000;
      while ((await info()).messages > 5 && Date.now() < deadline2)
        await new Promise((r) => setTimeout(r, 50));
      expect((await info()).messages).toBeLessThanOrEqual(5);

      // A second durable that has acknowledged nothing holds the floor: nothing it has not seen is purged.
      await c.stop();
      const late: string[] = [];
      const held = await stream.consume('events', 'slow', () => new Promise<void>(() => undefined));
      await held.stop();
      for (let i = 0; i < 20; i++) await stream.publish('events', { id: `n${i}`, data: payload });
      await new Promise((r) => setTimeout(r, 300));
      expect((await info()).messages).toBeGreaterThanOrEqual(20);
      const again = await stream.consume('events', 'slow', async (m) => void late.push(m.id));
      const deadline3 = Date.now() + 10_000;
      while (late.filter((id) => id.startsWith('n')).length < 20 && Date.now() < deadline3)
        await new Promise((r) => setTimeout(r, 20));
      expect(late.filter((id) => id.startsWith('n')).length).toBe(20);
      await again.stop();
    } finally {
      await stream.close();
      await deleteStream(names.stream);
    }
  });

  it('reads its tuning from the stream URL and rejects other schemes', () => {
    expect(natsOptionsFromUrl('nats://127.0.0.1:4222?stream=S1&prefix=p.&ackWaitMs=500')).toEqual({
      url: 'nats://127.0.0.1:4222',
      stream: 'S1',
      subjectPrefix: 'p.',
      ackWaitMs: 500,
    });
    expect(() => natsOptionsFromUrl('http://x')).toThrow(/nats:\/\//);
  });
});
