/**
 * The server-mode `Stream` on NATS JetStream. Subjects of the port map to `<prefix><subject>` inside one
 * JetStream stream (file storage, limits retention, discard-new at `maxBytes`, so a full stream refuses a
 * publish instead of dropping acknowledged data). `publish` resolves only after the JetStream ack; each
 * durable is an explicit-ack pull consumer shared by every process that consumes it, so several workers
 * split the work; a message is acked only after its handler resolved, nak'ed (redelivered after a delay)
 * when it threw, and redelivered after `ackWaitMs` when its worker died holding it.
 *
 * Backpressure: at most `maxInFlight` publishes wait for their ack at once and each waits `publishTimeoutMs`;
 * beyond either the caller gets `unavailable` with a Retry-After, which the API turns into a 503.
 *
 * Trimming: limits retention keeps a message until `maxAgeMs` even after every durable acknowledged it, so
 * without trimming the stream fills to `maxBytes` in normal operation (1 GiB is a few million events) and then
 * refuses every publish until messages age out. Work-queue retention would delete on ack but allows one
 * consumer per subject, and interest retention drops what is published before a durable exists; so every
 * consuming process purges, every `trimEveryMs`, the messages below the lowest ack floor of all the stream's
 * durables: what every durable has acknowledged, and nothing else.
 */
import { AckPolicy, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { AppError } from '../../../kernel/errors.ts';
import type { Stream, StreamMessage } from '../../ports.ts';

export type NatsStreamOptions = {
  /** nats://host:port; query parameters (see `natsOptionsFromUrl`) are read by that helper, not here. */
  url: string;
  /** JetStream stream name (default CANDOR_INGEST). */
  stream?: string;
  /** Prefix of every subject in the stream (default `candor.`); the stream captures `<prefix>>`. */
  subjectPrefix?: string;
  /** Publishes waiting for their ack at once before new ones are refused (default 256). */
  maxInFlight?: number;
  /** How long a publish waits for the JetStream ack (default 5 s). */
  publishTimeoutMs?: number;
  /** How long a delivered message may stay unacked before JetStream redelivers it (default 30 s). */
  ackWaitMs?: number;
  /** Delay before a message whose handler threw is redelivered (default 1 s). */
  redeliveryDelayMs?: number;
  /** Messages one process handles at once per durable (default 4). */
  concurrency?: number;
  /** Stream capacity: beyond it publishes are refused (default 1 GiB). */
  maxBytes?: number;
  /** Messages older than this are removed from the stream (default 7 days). */
  maxAgeMs?: number;
  /** Connection name shown by the NATS server. */
  name?: string;
  /** How often a consuming process purges what every durable has acknowledged (default 5 s). */
  trimEveryMs?: number;
};

/** Reads tuning from the URL's query (`?stream=&prefix=&ackWaitMs=&publishTimeoutMs=&maxInFlight=&maxBytes=&trimEveryMs=`). */
export function natsOptionsFromUrl(url: string): NatsStreamOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new AppError('config_invalid', 'streamUrl (CANDOR_STREAM_URL) must be a nats://host:port URL.', {
      cause,
    });
  }
  if (parsed.protocol !== 'nats:' && parsed.protocol !== 'tls:') {
    throw new AppError(
      'config_invalid',
      `streamUrl (CANDOR_STREAM_URL) must be a nats:// URL (got ${parsed.protocol}); leave it unset for the embedded mode.`,
    );
  }
  const q = parsed.searchParams;
  const num = (name: string): number | undefined => {
    const v = q.get(name);
    if (v === null) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0)
      throw new AppError('config_invalid', `streamUrl parameter ${name} must be a positive number.`);
    return n;
  };
  const options: NatsStreamOptions = { url: `${parsed.protocol}//${parsed.host}` };
  if (parsed.username)
    options.url = `${parsed.protocol}//${parsed.username}:${parsed.password}@${parsed.host}`;
  const stream = q.get('stream');
  if (stream) options.stream = stream;
  const prefix = q.get('prefix');
  if (prefix) options.subjectPrefix = prefix;
  for (const key of [
    'maxInFlight',
    'publishTimeoutMs',
    'ackWaitMs',
    'redeliveryDelayMs',
    'concurrency',
    'maxBytes',
    'maxAgeMs',
    'trimEveryMs',
  ] as const) {
    const v = num(key);
    if (v !== undefined) options[key] = v;
  }
  return options;
}

const STREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/;

function unavailable(message: string, cause?: unknown, retryAfter = 2): AppError {
  return new AppError('unavailable', message, { retryAfter, ...(cause === undefined ? {} : { cause }) });
}

export async function createNatsStream(options: NatsStreamOptions): Promise<Stream> {
  const streamName = options.stream ?? 'CANDOR_INGEST';
  if (!STREAM_NAME.test(streamName))
    throw new AppError('config_invalid', `Invalid JetStream stream name "${streamName}".`);
  const prefix = options.subjectPrefix ?? 'candor.';
  const maxInFlight = options.maxInFlight ?? 256;
  const publishTimeoutMs = options.publishTimeoutMs ?? 5_000;
  const ackWaitMs = options.ackWaitMs ?? 30_000;
  const redeliveryDelayMs = options.redeliveryDelayMs ?? 1_000;
  const concurrency = options.concurrency ?? 4;
  const trimEveryMs = options.trimEveryMs ?? 5_000;

  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.url,
      name: options.name ?? 'candor',
      // Reconnect forever: a NATS restart is an outage to ride out, not a reason for the process to die.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      timeout: 5_000,
    });
  } catch (cause) {
    throw unavailable(
      `Cannot connect to NATS at ${options.url}: start nats-server with -js, or fix CANDOR_STREAM_URL.`,
      cause,
    );
  }
  const js: JetStreamClient = jetstream(nc, { timeout: publishTimeoutMs });
  let jsm: JetStreamManager;
  try {
    jsm = await jetstreamManager(nc, { timeout: publishTimeoutMs });
  } catch (cause) {
    await nc.close();
    throw unavailable('NATS is reachable but JetStream is not enabled: start nats-server with -js.', cause);
  }

  async function ensureStream(): Promise<void> {
    try {
      await jsm.streams.info(streamName);
      return;
    } catch {
      // missing: create it below
    }
    try {
      await jsm.streams.add({
        name: streamName,
        subjects: [`${prefix}>`],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.New,
        max_bytes: options.maxBytes ?? 1024 ** 3,
        max_age: nanos(options.maxAgeMs ?? 7 * 24 * 3600 * 1000),
        duplicate_window: nanos(2 * 60 * 1000),
      });
    } catch (error) {
      // Another process created it at the same moment: fine if it is there now.
      await jsm.streams.info(streamName).catch(() => {
        throw error;
      });
    }
  }
  await ensureStream();

  let inFlight = 0;
  let closed = false;
  const consumers = new Set<{ stop(): Promise<void> }>();

  /** Purges what every durable of the stream has acknowledged (see the header). */
  let trimmedBelow = 0;
  async function trim(): Promise<void> {
    let floor = Number.POSITIVE_INFINITY;
    let durables = 0;
    for await (const ci of jsm.consumers.list(streamName)) {
      durables += 1;
      floor = Math.min(floor, ci.ack_floor.stream_seq);
    }
    // Nothing acknowledged yet (floor 0): nothing to purge. Asking anyway would be `seq: 1`, which the NATS
    // server (2.9 here) reads as no sequence at all and purges the whole stream: every message not yet
    // handled, and the pending state of those delivered, were lost that way (test/fault/server-mode-faults).
    if (durables === 0 || !Number.isFinite(floor) || floor < 1 || floor + 1 <= trimmedBelow) return;
    // `seq`: purge everything up to, not including, this sequence.
    await jsm.streams.purge(streamName, { seq: floor + 1 });
    trimmedBelow = floor + 1;
  }
  let trimmer: NodeJS.Timeout | undefined;
  let trimming: Promise<void> | undefined;
  function startTrimming(): void {
    if (trimmer) return;
    trimmer = setInterval(() => {
      if (trimming || closed) return;
      trimming = trim()
        // NATS restarting: the next round tries again; nothing is lost by trimming later.
        .catch(() => undefined)
        .finally(() => (trimming = undefined));
    }, trimEveryMs);
    trimmer.unref();
  }

  return {
    async publish(subject: string, message: StreamMessage) {
      if (closed) throw unavailable('The stream is closed; the process is shutting down.', undefined, 1);
      if (inFlight >= maxInFlight) {
        throw unavailable(
          'Too many batches are waiting for the ingestion stream. Retry in a moment.',
          undefined,
          1,
        );
      }
      inFlight += 1;
      try {
        // msgID lets JetStream drop a duplicate of a retried publish within its duplicate window.
        await js.publish(`${prefix}${subject}`, message.data, {
          msgID: message.id,
          timeout: publishTimeoutMs,
        });
      } catch (cause) {
        throw unavailable(
          'The ingestion stream did not confirm the batch in time; nothing was accepted. Retry in a moment.',
          cause,
        );
      } finally {
        inFlight -= 1;
      }
    },

    async consume(subject, durable, handler) {
      if (closed) throw unavailable('The stream is closed; the process is shutting down.', undefined, 1);
      const config = {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: `${prefix}${subject}`,
        ack_wait: nanos(ackWaitMs),
        max_deliver: -1,
        max_ack_pending: 1_000,
      };
      try {
        await jsm.consumers.add(streamName, config);
      } catch (error) {
        // Another process created it with the same name: use it as it is.
        await jsm.consumers.info(streamName, durable).catch(() => {
          throw error;
        });
      }

      startTrimming();
      let stopped = false;
      let messages: ConsumerMessages | undefined;
      const running = new Set<Promise<void>>();

      async function handle(m: JsMsg): Promise<void> {
        const id = m.headers?.get('Nats-Msg-Id') || `${streamName}:${m.seq}`;
        try {
          await handler({ id, data: m.data });
        } catch {
          if (!stopped) m.nak(redeliveryDelayMs);
          return;
        }
        // Acked only after the handler committed; a lost ack means a redelivery, which handlers absorb.
        m.ack();
      }

      const loop = (async () => {
        while (!stopped) {
          try {
            const consumer = await js.consumers.get(streamName, durable);
            messages = await consumer.consume({ max_messages: concurrency * 2 });
            // Stopped while the subscription was being set up: `stop()` found nothing to close yet. Close it
            // now without waiting: the close completes as the loop below drains the (now ending) iterator.
            if (stopped) void messages.close().catch(() => undefined);
            for await (const m of messages) {
              if (stopped) {
                m.nak(0);
                break;
              }
              const task = handle(m).finally(() => running.delete(task));
              running.add(task);
              while (running.size >= concurrency) await Promise.race(running);
            }
          } catch {
            // Server restarting or consumer momentarily missing: try again shortly.
          }
          if (!stopped) await new Promise((r) => setTimeout(r, 250));
        }
      })();

      const handle_ = {
        async stop() {
          stopped = true;
          await messages?.close().catch(() => undefined);
          await loop;
          // Handlers in progress get up to the ack wait; anything still unacked then is redelivered anyway.
          await Promise.race([
            Promise.allSettled([...running]),
            new Promise((r) => setTimeout(r, ackWaitMs).unref()),
          ]);
          consumers.delete(handle_);
        },
      };
      consumers.add(handle_);
      return handle_;
    },

    async ping() {
      if (closed || nc.isClosed()) throw unavailable('The stream is closed.');
      try {
        await jsm.streams.info(streamName);
      } catch (cause) {
        throw unavailable('The ingestion stream (NATS JetStream) does not answer.', cause);
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      clearInterval(trimmer);
      await trimming;
      await Promise.allSettled([...consumers].map((c) => c.stop()));
      await nc.drain().catch(() => nc.close());
    },
  };
}
