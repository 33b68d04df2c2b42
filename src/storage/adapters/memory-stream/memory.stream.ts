/**
 * The in-process `Stream` for the embedded mode, with the semantics of the NATS JetStream one: every
 * durable consumer of a subject receives every message published on it (also those published before it
 * subscribed), in order; a handler that resolves acks the message, one that throws gets it again after a
 * delay. Messages live in this process only: the embedded mode's durability comes from the stores the
 * consumers write to, and the publisher is the same process.
 */
import type { Stream, StreamMessage } from '../../ports.ts';
import { AppError } from '../../../kernel/errors.ts';

export type MemoryStreamOptions = {
  /** Wait before redelivering a message whose handler threw, in ms. */
  redeliveryDelayMs?: number;
};

type Durable = {
  queue: StreamMessage[];
  handler: ((message: StreamMessage) => Promise<void>) | null;
  pumping: Promise<void> | null;
  timer: NodeJS.Timeout | null;
};

type Subject = {
  /** Messages published before any durable existed, handed to the first durable that subscribes. */
  backlog: StreamMessage[];
  durables: Map<string, Durable>;
};

export function createMemoryStream(options: MemoryStreamOptions = {}): Stream {
  const redeliveryDelayMs = options.redeliveryDelayMs ?? 1_000;
  const subjects = new Map<string, Subject>();
  let closed = false;

  function subjectOf(name: string): Subject {
    let s = subjects.get(name);
    if (!s) {
      s = { backlog: [], durables: new Map() };
      subjects.set(name, s);
    }
    return s;
  }

  function pump(d: Durable): void {
    if (d.pumping || d.timer || !d.handler || d.queue.length === 0) return;
    const handler = d.handler;
    d.pumping = (async () => {
      while (d.handler === handler && d.queue.length > 0) {
        const message = d.queue[0]!;
        try {
          await handler(message);
          d.queue.shift();
        } catch {
          // Not acked: keep it at the head and try again after the delay, preserving order.
          d.timer = setTimeout(() => {
            d.timer = null;
            pump(d);
          }, redeliveryDelayMs);
          break;
        }
      }
    })().finally(() => {
      d.pumping = null;
      if (!d.timer && d.handler && d.queue.length > 0) pump(d);
    });
  }

  return {
    async publish(subject, message) {
      if (closed) throw new AppError('unavailable', 'The stream is closed; the process is shutting down.');
      const s = subjectOf(subject);
      if (s.durables.size === 0) {
        s.backlog.push(message);
        return;
      }
      for (const d of s.durables.values()) {
        d.queue.push(message);
        pump(d);
      }
    },

    async consume(subject, durable, handler) {
      if (closed) throw new AppError('unavailable', 'The stream is closed; the process is shutting down.');
      const s = subjectOf(subject);
      let d = s.durables.get(durable);
      if (!d) {
        d = {
          queue: s.durables.size === 0 ? s.backlog.splice(0) : [],
          handler: null,
          pumping: null,
          timer: null,
        };
        s.durables.set(durable, d);
      }
      if (d.handler)
        throw new AppError('conflict', `Durable consumer ${durable} on ${subject} is already running.`);
      d.handler = handler;
      pump(d);
      const current = d;
      return {
        async stop() {
          current.handler = null;
          if (current.timer) {
            clearTimeout(current.timer);
            current.timer = null;
          }
          await current.pumping;
        },
      };
    },

    async ping() {
      if (closed) throw new AppError('unavailable', 'The stream is closed.');
    },

    async close() {
      closed = true;
      const waits: Promise<void>[] = [];
      for (const s of subjects.values()) {
        for (const d of s.durables.values()) {
          d.handler = null;
          if (d.timer) clearTimeout(d.timer);
          d.timer = null;
          if (d.pumping) waits.push(d.pumping);
        }
      }
      await Promise.all(waits);
    },
  };
}
