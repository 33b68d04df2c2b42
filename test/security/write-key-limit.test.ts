/**
 * The per-write-key bucket of the writeKey guard (recommendations, experiments, chat and privacy-centre calls
 * made with a source's key): shared by every address that sends with the key (every browser of a shop does),
 * tuned as `ingest.key` in config `rateLimits`, and separate for each source.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourceCreateCommand, WRITE_KEY_LIMIT, WRITE_KEY_RULE } from '../../src/modules/auth/index.ts';
import { fromIp, startHarness, type Harness } from './harness.ts';

const CAPACITY = 3;
let h: Harness;
let web: string;
let app: string;

beforeAll(async () => {
  h = await startHarness({
    rateLimits: { [WRITE_KEY_LIMIT]: { capacity: CAPACITY, refillPerSec: 1 / 3600 } },
  });
  const basic = async (name: string) =>
    `Basic ${Buffer.from(`${(await sourceCreateCommand(h.auth, { name })).writeKey}:`).toString('base64')}`;
  web = await basic('web');
  app = await basic('app');
});

afterAll(async () => {
  await h.close();
});

const recommend = (authorization: string, ip: string) =>
  h.candor.app.request(
    `/v1/recommendations?surface=for-you&anonymousId=dev-${ip}`,
    { headers: { authorization } },
    fromIp(ip),
  );

describe('per-write-key limit', () => {
  it('counts every address sending with one key, and is tuned by its name in config', async () => {
    for (let i = 0; i < CAPACITY; i++) expect((await recommend(web, `203.0.113.${i + 1}`)).status).toBe(200);
    const limited = await recommend(web, '203.0.113.99');
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Another source's key has a bucket of its own.
    expect((await recommend(app, '203.0.113.99')).status).toBe(200);
  });

  it('is generous by default for a shop whose browsers all share one key', () => {
    expect(WRITE_KEY_RULE.capacity).toBeGreaterThanOrEqual(1_000);
    expect(WRITE_KEY_RULE.refillPerSec).toBeGreaterThanOrEqual(100);
  });
});
