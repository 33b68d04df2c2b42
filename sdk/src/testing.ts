// Test doubles for the node-environment unit tests: a Map-backed device storage, a recording transport
// and a manual clock with timers. Not part of any bundle.
import type { KV, Runtime, SendResult, Transport } from './types.ts';

export type MemoryKV = KV & { data: Map<string, string> };

export function memoryKV(): MemoryKV {
  const data = new Map<string, string>();
  return {
    data,
    get: (key) => data.get(key) ?? null,
    set: (key, value) => void data.set(key, value),
    remove: (key) => void data.delete(key),
    keys: () => [...data.keys()],
  };
}

export type Sent = { path: string; body: Record<string, unknown>; beacon: boolean };

/** Records every request; answers with `results` in turn, then with `fallback`. */
export function recordingTransport(fallback: SendResult = 'ok') {
  const sent: Sent[] = [];
  const results: SendResult[] = [];
  const transport: Transport & { sent: Sent[]; results: SendResult[]; beaconOk: boolean } = {
    sent,
    results,
    beaconOk: true,
    send: async (path, body) => {
      sent.push({ path, body: JSON.parse(body) as Record<string, unknown>, beacon: false });
      return results.shift() ?? fallback;
    },
    beacon: (path, body) => {
      sent.push({ path, body: JSON.parse(body) as Record<string, unknown>, beacon: true });
      return transport.beaconOk;
    },
  };
  return transport;
}

/** Message ids of the events in every `/v1/batch` request sent so far. */
export function sentMessageIds(sent: Sent[]): string[] {
  return sent
    .filter((s) => s.path === '/v1/batch')
    .flatMap((s) => (s.body.batch as { messageId: string }[]).map((m) => m.messageId));
}

export type ManualRuntime = Runtime & {
  isOnline: boolean;
  /** Delays of the timers set so far, in order. */
  delays: number[];
  /** Moves the clock on and runs the timers that came due, then lets their promises settle. */
  advance(ms: number): Promise<void>;
};

export function manualRuntime(seed = 1): ManualRuntime {
  let now = Date.UTC(2026, 0, 1);
  let counter = 0;
  let state = seed;
  const timers = new Map<number, { at: number; fn: () => void }>();
  let nextTimer = 0;
  const rt: ManualRuntime = {
    isOnline: true,
    delays: [],
    now: () => now,
    // A small deterministic generator: tests see the same jitter on every run.
    random: () => {
      state = (state * 48271) % 2147483647;
      return state / 2147483647;
    },
    uuid: () => `00000000-0000-4000-8000-${String(++counter).padStart(12, '0')}`,
    setTimer: (fn, ms) => {
      const id = nextTimer++;
      rt.delays.push(ms);
      timers.set(id, { at: now + ms, fn });
      return () => void timers.delete(id);
    },
    online: () => rt.isOnline,
    advance: async (ms) => {
      const until = now + ms;
      for (;;) {
        await settle();
        const due = [...timers.entries()]
          .filter(([, t]) => t.at <= until)
          .sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
        await settle();
      }
      now = until;
      await settle();
    },
  };
  return rt;
}

/** Lets pending promise callbacks (the transport's answers) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
