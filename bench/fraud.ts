// `npm run bench -- fraud [--warm N] [--runs R]`
// Score latency of POST /v1/fraud/score through the whole HTTP stack (validation, card-number scan, catalogue
// prices, history reads, the write of the attempt, case opening) on a warmed SQLite state store: N orders of
// the synthetic fraud scenario are scored first, then R more are timed one by one. Target: p95 < 20 ms.
// Records bench/results/fraud.json.
import type { MiddlewareHandler } from 'hono';
import { testConfig } from '../src/kernel/config.ts';
import type { AppEnv, Guards } from '../src/kernel/http.ts';
import { silentLogger } from '../src/kernel/logger.ts';
import { generateScenario, type ScenarioRow } from '../src/modules/fraud/scenario.ts';
import { createCandor } from '../src/server/index.ts';
import { makeTempDir } from '../src/storage/testing.ts';
import { median, percentile, printTable, recordResult } from './support.ts';

const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const WARM = Number(arg('warm', '5000'));
const RUNS = Number(arg('runs', '1000'));

const owner: MiddlewareHandler<AppEnv> = async (c, next) => {
  c.set('principal', { kind: 'staff', staffId: 'stf_bench', role: 'owner', sessionId: null, apiKeyId: null });
  await next();
};
const guards: Guards = { staff: () => owner, shopper: owner, writeKey: owner };

function body(r: ScenarioRow, i: number) {
  return {
    orderId: `${r.txn_id}-${i}`,
    at: r.ts,
    amount: r.amount,
    currency: r.currency,
    items: [{ productId: r.product_id, quantity: r.quantity, unitPrice: r.unit_price }],
    discount: r.discount,
    ...(r.coupons ? { coupons: r.coupons.split(';') } : {}),
    customer: {
      ...(r.customer_id ? { id: r.customer_id, accountCreatedAt: r.account_created_at } : {}),
      email: r.email,
    },
    deviceId: r.device_id,
    ip: r.ip,
    ipCountry: r.ip_country,
    billingAddress: { country: r.billing_country },
    shippingAddress: { line1: r.shipping_address, country: r.shipping_country },
    payment: {
      fingerprint: r.card_fp,
      binCountry: r.bin_country,
      authResult: r.auth_result as 'approved' | 'declined',
      threeDs: r.three_ds as 'authenticated',
      avs: r.avs as 'match',
      cvv: r.cvv as 'match',
    },
  };
}

const dir = makeTempDir('candor-bench-fraud');
const candor = await createCandor(testConfig(dir.path), { guards, jobs: false, logger: silentLogger() });
try {
  const rows = generateScenario({ seed: 11, customers: Math.max(200, Math.round(WARM / 4)) });
  const products = new Map(rows.map((r) => [r.product_id, r]));
  const put = await candor.app.request('/v1/catalog/products', {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      products: [...products.values()].map((r) => ({
        id: r.product_id,
        title: { en: r.product_id },
        categoryPath: [r.category],
        price: r.list_price,
        currency: r.currency,
        stock: 100,
        attributes: {},
        active: true,
      })),
    }),
  });
  if (put.status !== 200) throw new Error(`catalogue upload failed: ${put.status} ${await put.text()}`);
  const send = (b: unknown) =>
    candor.app.request('/v1/fraud/score', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(b),
    });
  const t0 = performance.now();
  for (let i = 0; i < WARM; i++) {
    const res = await send(body(rows[i % rows.length]!, i));
    if (res.status !== 200) throw new Error(`warm-up score failed: ${res.status} ${await res.text()}`);
  }
  const warmS = (performance.now() - t0) / 1000;
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const b = body(rows[(WARM + i) % rows.length]!, WARM + i);
    const start = performance.now();
    const res = await send(b);
    await res.arrayBuffer();
    ms.push(performance.now() - start);
    if (res.status !== 200) throw new Error(`score failed: ${res.status}`);
  }
  const result = {
    store: 'sqlite',
    warmOrders: WARM,
    timedOrders: RUNS,
    warmSeconds: Math.round(warmS * 10) / 10,
    p50Ms: Math.round(median(ms) * 100) / 100,
    p95Ms: Math.round(percentile(ms, 95) * 100) / 100,
    p99Ms: Math.round(percentile(ms, 99) * 100) / 100,
    targetP95Ms: 20,
  };
  printTable([
    {
      store: 'sqlite',
      warm: WARM,
      timed: RUNS,
      'p50 ms': result.p50Ms,
      'p95 ms': result.p95Ms,
      'p99 ms': result.p99Ms,
    },
  ]);
  console.log(`recorded ${recordResult('fraud', result)}`);
} finally {
  await candor.close();
  dir.cleanup();
}
