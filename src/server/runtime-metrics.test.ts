import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.ts';
import { watchRuntime, type RuntimeWatch } from './runtime-metrics.ts';

const watches: RuntimeWatch[] = [];
afterEach(() => {
  for (const w of watches.splice(0)) w.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const block = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};
/** Young objects that die at once: the scavenger runs several times. */
const churn = () => {
  let keep = 0;
  for (let i = 0; i < 2_000_000; i++) keep += { i, s: `x${i}` }.s.length;
  return keep;
};
const value = (text: string, series: string) =>
  Number(
    text
      .split('\n')
      .find((l) => l.startsWith(`${series} `))
      ?.split(' ')
      .at(-1) ?? Number.NaN,
  );

describe('runtime metrics', () => {
  it('reports how late the event loop ran since the previous scrape', async () => {
    const metrics = createMetrics();
    watches.push(watchRuntime(metrics));
    await sleep(50);
    metrics.render();
    await sleep(20);
    block(120);
    await sleep(30);
    const stalled = metrics.render();
    expect(value(stalled, 'nodejs_eventloop_delay_max_seconds')).toBeGreaterThanOrEqual(0.1);
    expect(stalled).toContain('# TYPE nodejs_eventloop_delay_p99_seconds gauge');
    // The next scrape covers only what came after: no stall there.
    await sleep(60);
    const after = metrics.render();
    expect(value(after, 'nodejs_eventloop_delay_max_seconds')).toBeLessThan(0.1);
  });

  it('counts garbage-collection pauses by kind, in buckets fine enough for them, until stopped', async () => {
    const metrics = createMetrics();
    const watch = watchRuntime(metrics);
    watches.push(watch);
    churn();
    await sleep(20);
    const text = metrics.render();
    const minor = value(text, 'nodejs_gc_duration_seconds_count{kind="minor"}');
    expect(minor).toBeGreaterThan(0);
    expect(text).toContain('nodejs_gc_duration_seconds_bucket{kind="minor",le="0.001"}');
    watch.stop();
    churn();
    await sleep(20);
    expect(value(metrics.render(), 'nodejs_gc_duration_seconds_count{kind="minor"}')).toBe(minor);
  });
});
