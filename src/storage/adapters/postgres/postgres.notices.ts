/**
 * Change notices between processes sharing one PostgreSQL state store: NOTIFY inside the writer's
 * transaction (delivered at commit, never for a rolled-back write), LISTEN on one dedicated connection per
 * process. Channels are named after the schema too, so installations sharing a database (tests, several
 * shops) never hear each other.
 */
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import type { StateNotices } from '../../ports.ts';

const MAX_PAYLOAD_BYTES = 7_000;
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;
/**
 * A connection can die without a word (network cut, server host gone): TCP keepalive notices it only after
 * minutes. A small query this often, answered within PROBE_TIMEOUT_MS, keeps "listening" honest.
 */
const PROBE_EVERY_MS = 5_000;
const PROBE_TIMEOUT_MS = 3_000;

type Handlers = Parameters<StateNotices['listen']>[1];

/** A PostgreSQL identifier (≤ 63 bytes) unique to the schema and the channel. */
export function channelName(schema: string, channel: string): string {
  return `candor_${createHash('sha256').update(`${schema}\u0000${channel}`).digest('hex').slice(0, 32)}`;
}

export function createPostgresNotices(options: { url: string; schema?: string }): StateNotices & {
  close(): Promise<void>;
} {
  const schema = options.schema ?? 'public';
  const listeners = new Map<string, Set<Handlers>>();
  let client: pg.Client | null = null;
  let connecting: Promise<void> | null = null;
  let listening = false;
  let closed = false;
  let delay = RECONNECT_MIN_MS;
  let retry: NodeJS.Timeout | null = null;
  let probing = false;
  const probe = setInterval(() => {
    const c = client;
    if (!c || probing) return;
    probing = true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no answer')), PROBE_TIMEOUT_MS);
    });
    Promise.race([c.query('select 1'), timeout])
      .catch(() => lost(c))
      .finally(() => {
        clearTimeout(timer);
        probing = false;
      });
  }, PROBE_EVERY_MS);
  probe.unref();

  const tell = (state: boolean) => {
    listening = state;
    for (const set of listeners.values()) for (const h of set) h.onListening(state);
  };

  function lost(c: pg.Client): void {
    if (client !== c) return;
    client = null;
    c.removeAllListeners('notification');
    c.end().catch(() => undefined);
    if (listening) tell(false);
    if (closed || listeners.size === 0 || retry) return;
    retry = setTimeout(() => {
      retry = null;
      void ensure();
    }, delay);
    retry.unref();
    delay = Math.min(RECONNECT_MAX_MS, delay * 2);
  }

  /** Connects and LISTENs on every channel; only then are listeners told notices arrive. */
  function ensure(): Promise<void> {
    if (closed || client || listeners.size === 0) return Promise.resolve();
    connecting ??= (async () => {
      const c = new pg.Client({
        connectionString: options.url,
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
        connectionTimeoutMillis: 10_000,
      });
      c.on('error', () => lost(c));
      c.on('end', () => lost(c));
      c.on('notification', (n) => {
        const set = [...listeners].find(([name]) => channelName(schema, name) === n.channel)?.[1];
        if (set) for (const h of set) h.onNotice(n.payload ?? '');
      });
      try {
        await c.connect();
        client = c;
        for (const name of listeners.keys()) await c.query(`LISTEN "${channelName(schema, name)}"`);
        delay = RECONNECT_MIN_MS;
        tell(true);
      } catch {
        if (client === c) lost(c);
        else {
          await c.end().catch(() => undefined);
          if (!closed && !retry) {
            retry = setTimeout(() => {
              retry = null;
              void ensure();
            }, delay);
            retry.unref();
            delay = Math.min(RECONNECT_MAX_MS, delay * 2);
          }
        }
      }
    })().finally(() => {
      connecting = null;
    });
    return connecting;
  }

  return {
    async notify(trx, channel, payload) {
      if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES)
        throw new Error(`A notice payload is limited to ${MAX_PAYLOAD_BYTES} bytes.`);
      await sql`select pg_notify(${channelName(schema, channel)}, ${payload})`.execute(trx);
    },

    async listen(channel, handlers) {
      const known = listeners.has(channel);
      const set = listeners.get(channel) ?? new Set<Handlers>();
      set.add(handlers);
      listeners.set(channel, set);
      handlers.onListening(false);
      if (client && !known) await client.query(`LISTEN "${channelName(schema, channel)}"`).catch(() => {});
      if (client && listening) handlers.onListening(true);
      else await ensure();
      return {
        stop: async () => {
          set.delete(handlers);
          if (set.size === 0) {
            listeners.delete(channel);
            await client?.query(`UNLISTEN "${channelName(schema, channel)}"`).catch(() => undefined);
          }
        },
      };
    },

    async close() {
      closed = true;
      clearInterval(probe);
      if (retry) clearTimeout(retry);
      await connecting?.catch(() => undefined);
      const c = client;
      client = null;
      if (c) {
        c.removeAllListeners();
        c.on('error', () => {});
        await c.end().catch(() => undefined);
      }
    },
  };
}
