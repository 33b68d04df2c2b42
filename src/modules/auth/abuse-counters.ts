/**
 * The counts abuse detection judges by: sliding windows of hits (how many, and how many distinct values
 * among them), a write key's requests per window against its usual volume, and which alerts were raised
 * within their cool-down. In the process (one API process) or in Redis (several API processes behind one
 * balancer: a password sprayer spreading attempts over them would otherwise stay under every process's
 * threshold, and each process would raise the same alert once). Both pass one contract suite
 * (abuse-counters.contract.ts). Names and values are pseudonymous (IP pseudonyms, staff ids, key ids).
 */
import { Redis } from 'ioredis';
import { createHitWindow, type HitWindow } from './hit-window.ts';

export type WindowCount = { size: number; distinct: number };
export type KeyVolume = { current: number; usual: number };

export type AbuseCounters = {
  /**
   * Adds `count` hits carrying `value` to the window `name` at `at` (ms), forgets hits at or before
   * `at - windowMs`, and returns the window's hits and (with `distinct`) distinct values after; without it,
   * `distinct` is 0 and costs nothing. At most `capacity` newest hits count: past a few thousand, older ones
   * carry no extra signal. A window is always asked the same way.
   */
  hit(
    name: string,
    at: number,
    value: string,
    count: number,
    distinct: boolean,
  ): WindowCount | Promise<WindowCount>;
  /** One request of a write key: its count in the current fixed window and the mean of its past windows. */
  keyRequest(keyId: string, at: number): KeyVolume | Promise<KeyVolume>;
  /** True, and remembered, unless the alert `key` was claimed less than `coolDownMs` before `at`. */
  claimAlert(key: string, at: number, coolDownMs: number): boolean | Promise<boolean>;
  close(): Promise<void>;
};

export type CounterLimits = { windowMs: number; capacity: number };

/** Windows kept at most in one process: the oldest window goes when a flood of new IPs would pass it. */
const MAX_WINDOWS = 50_000;

export function createMemoryAbuseCounters(limits: CounterLimits): AbuseCounters {
  const windows = new Map<string, HitWindow>();
  const raised = new Map<string, number>();
  const keys = new Map<string, { windows: number; total: number; windowStart: number; current: number }>();
  const forgetOldest = (map: Map<string, unknown>) => {
    if (map.size < MAX_WINDOWS) return;
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  };
  return {
    hit(name, at, value, count, distinct) {
      let list = windows.get(name);
      if (!list) {
        list = createHitWindow(limits.windowMs, limits.capacity);
        forgetOldest(windows);
        windows.set(name, list);
      }
      list.add(at, value, count);
      return { size: list.size, distinct: distinct ? list.distinct() : 0 };
    },
    keyRequest(keyId, at) {
      let b = keys.get(keyId);
      if (!b) {
        b = { windows: 0, total: 0, windowStart: at, current: 0 };
        forgetOldest(keys);
        keys.set(keyId, b);
      }
      if (at - b.windowStart >= limits.windowMs) {
        b.windows += 1;
        b.total += b.current;
        b.current = 0;
        b.windowStart = at;
      }
      b.current += 1;
      return { current: b.current, usual: b.windows > 0 ? b.total / b.windows : 0 };
    },
    claimAlert(key, at, coolDownMs) {
      const last = raised.get(key);
      if (last !== undefined && at - last < coolDownMs) return false;
      raised.delete(key);
      forgetOldest(raised);
      raised.set(key, at);
      return true;
    },
    async close() {
      windows.clear();
      raised.clear();
      keys.clear();
    },
  };
}

/**
 * One window is two sorted sets: its hits (a unique member each, scored by time) and its values (scored by
 * their latest hit, so a value is in the window exactly when its latest hit is). Both are trimmed to the
 * window and the capacity, and expire with the window. One round trip, atomic per window.
 */
const HIT_SCRIPT = `
local at = tonumber(ARGV[1])
local windowMs = tonumber(ARGV[2])
local capacity = tonumber(ARGV[3])
local count = math.min(tonumber(ARGV[4]), capacity)
local value = ARGV[5]
local distinct = ARGV[6] == '1'
local seq = redis.call('INCRBY', KEYS[3], count)
redis.call('PEXPIRE', KEYS[3], windowMs)
for i = 1, count do
  redis.call('ZADD', KEYS[1], at, tostring(seq - count + i))
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', at - windowMs)
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -capacity - 1)
redis.call('PEXPIRE', KEYS[1], windowMs)
if not distinct then
  return {redis.call('ZCARD', KEYS[1]), 0}
end
redis.call('ZADD', KEYS[2], at, value)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', at - windowMs)
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -capacity - 1)
redis.call('PEXPIRE', KEYS[2], windowMs)
return {redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[2])}
`;

/** A key's fixed windows, as the in-process counters keep them; kept for a day past its last request. */
const KEY_SCRIPT = `
local at = tonumber(ARGV[1])
local windowMs = tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'windows', 'total', 'start', 'current')
local windows = tonumber(b[1]) or 0
local total = tonumber(b[2]) or 0
local start = tonumber(b[3]) or at
local current = tonumber(b[4]) or 0
if at - start >= windowMs then
  windows = windows + 1
  total = total + current
  current = 0
  start = at
end
current = current + 1
redis.call('HSET', KEYS[1], 'windows', windows, 'total', total, 'start', start, 'current', current)
redis.call('PEXPIRE', KEYS[1], 86400000)
return {current, tostring(total), windows}
`;

/**
 * Claimed when no claim lies within the cool-down, judged by the callers' clock like the in-process
 * counters; the key's lifetime only lets Redis forget claims that no longer matter.
 */
const CLAIM_SCRIPT = `
local at = tonumber(ARGV[1])
local coolDown = tonumber(ARGV[2])
local last = tonumber(redis.call('GET', KEYS[1]))
if last and at - last < coolDown then
  return 0
end
redis.call('SET', KEYS[1], tostring(at), 'PX', coolDown)
return 1
`;

export function createRedisAbuseCounters(
  url: string,
  limits: CounterLimits,
  options: { prefix?: string } = {},
): AbuseCounters {
  // Auto-pipelining: the notes of many concurrent requests share round trips.
  const redis = new Redis(url, { maxRetriesPerRequest: 2, enableAutoPipelining: true });
  // A lost connection fails the commands waiting on it, and the detector reports those (once a minute);
  // the client's own error events would only repeat that on every reconnection attempt.
  redis.on('error', () => undefined);
  const prefix = options.prefix ?? 'candor:abuse:';
  return {
    async hit(name, at, value, count, wantDistinct) {
      const k = `${prefix}w:{${name}}`;
      const [size, distinct] = (await redis.eval(
        HIT_SCRIPT,
        3,
        `${k}:hits`,
        `${k}:values`,
        `${k}:seq`,
        at,
        limits.windowMs,
        limits.capacity,
        Math.max(1, Math.floor(count)),
        value,
        wantDistinct ? '1' : '0',
      )) as [number, number];
      return { size, distinct };
    },
    async keyRequest(keyId, at) {
      const [current, total, windows] = (await redis.eval(
        KEY_SCRIPT,
        1,
        `${prefix}k:${keyId}`,
        at,
        limits.windowMs,
      )) as [number, string, number];
      return { current, usual: windows > 0 ? Number(total) / windows : 0 };
    },
    async claimAlert(key, at, coolDownMs) {
      return (await redis.eval(CLAIM_SCRIPT, 1, `${prefix}a:${key}`, at, Math.max(1, coolDownMs))) === 1;
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** Redis when a URL is configured (several API processes), the process's own counters otherwise. */
export function createAbuseCounters(
  config: { redisUrl?: string | undefined },
  limits: CounterLimits,
): AbuseCounters {
  return config.redisUrl
    ? createRedisAbuseCounters(config.redisUrl, limits)
    : createMemoryAbuseCounters(limits);
}
