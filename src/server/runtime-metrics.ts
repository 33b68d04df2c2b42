/**
 * What keeps the JavaScript thread from answering, in /metrics: how late its event loop ran callbacks
 * (delay percentiles since the previous scrape) and every garbage-collection pause by kind. One thread
 * answers every request, so a request that arrives during a 40 ms pause waits 40 ms before its code runs;
 * these series show such stalls beside `http_request_duration_seconds`, and `npm run bench -- ingest` reads
 * them for each phase it measures. Nothing here is about a person.
 */
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { PAUSE_BUCKETS, type Metrics } from './metrics.ts';

/** How often the event loop is sampled, in ms: finer costs more timer wake-ups and sees no more. */
const RESOLUTION_MS = 10;

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

export type RuntimeWatch = { stop(): void };

export function watchRuntime(metrics: Metrics): RuntimeWatch {
  const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  delay.enable();
  // One snapshot per scrape, so the three gauges describe the same interval; then the next one starts.
  let snapshot = { p50: 0, p99: 0, max: 0 };
  metrics.beforeRender(() => {
    const seconds = (ns: number) => (Number.isFinite(ns) ? ns / 1e9 : 0);
    snapshot =
      delay.count > 0
        ? {
            p50: seconds(delay.percentile(50)),
            p99: seconds(delay.percentile(99)),
            max: seconds(delay.max),
          }
        : { p50: 0, p99: 0, max: 0 };
    delay.reset();
  });
  // The monitor's samples include its own resolution: a loop that is never late reads about 10 ms.
  const help = (what: string) =>
    `${what} of the event loop's delay since the previous scrape (sampled every ${RESOLUTION_MS} ms, which the values include).`;
  metrics.gauge('nodejs_eventloop_delay_p50_seconds', help('Median'), () => snapshot.p50);
  metrics.gauge('nodejs_eventloop_delay_p99_seconds', help('99th percentile'), () => snapshot.p99);
  metrics.gauge('nodejs_eventloop_delay_max_seconds', help('Maximum'), () => snapshot.max);

  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      // A `gc` entry's detail carries the kind (its type is not in the entry's declared shape).
      const detail = (entry as { detail?: { kind?: number } | null }).detail;
      const kind = GC_KINDS[detail?.kind ?? -1] ?? 'other';
      metrics.observe(
        'nodejs_gc_duration_seconds',
        'Garbage-collection pauses of the JavaScript thread, by kind.',
        { kind },
        entry.duration / 1000,
        PAUSE_BUCKETS,
      );
    }
  });
  gc.observe({ entryTypes: ['gc'] });

  return {
    stop() {
      delay.disable();
      gc.disconnect();
    },
  };
}
