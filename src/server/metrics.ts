/**
 * Prometheus text exposition (format 0.0.4), written by hand: a few counters, one histogram family per
 * name and gauges read at scrape time. Labels are low-cardinality by construction (route patterns, not
 * paths), so personal data cannot end up in a metric.
 */

type Labels = Record<string, string>;

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** Pauses of the JavaScript thread (garbage collection) are mostly shorter than the shortest request. */
export const PAUSE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] as const;

type Histogram = { buckets: number[]; sum: number; count: number };

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabel(labels[k] ?? '')}"`)
    .join(',');
}

function escapeLabel(v: string): string {
  return v.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('"', '\\"');
}

export type Metrics = {
  /** Counts one served request and records its duration. `route` is the matched pattern or `unmatched`. */
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  /** Counts an error answer by code (4xx and 5xx). */
  countError(code: string): void;
  /** Records one storage operation's duration (store: state|events|jobs). */
  observeStore(store: string, operation: string, seconds: number, failed: boolean): void;
  /** Wraps every async function of `target` so each call is timed as a store operation. */
  instrument<T extends object>(store: string, target: T): T;
  /** Records one value in a histogram family; `buckets` (upper bounds, ascending) are fixed by its first value. */
  observe(name: string, help: string, labels: Labels, value: number, buckets?: readonly number[]): void;
  /** Registers a gauge evaluated at scrape time. */
  gauge(name: string, help: string, read: () => number): void;
  /** Runs before each scrape's gauges are read (to take one consistent snapshot for several gauges). */
  beforeRender(fn: () => void): void;
  render(): string;
};

export function createMetrics(): Metrics {
  const counters = new Map<string, { help: string; values: Map<string, number> }>();
  const histograms = new Map<
    string,
    { help: string; bounds: readonly number[]; values: Map<string, Histogram> }
  >();
  const gauges = new Map<string, { help: string; read: () => number }>();
  const renderHooks: (() => void)[] = [];

  const inc = (name: string, help: string, labels: Labels, by = 1) => {
    let c = counters.get(name);
    if (!c) counters.set(name, (c = { help, values: new Map() }));
    const key = labelKey(labels);
    c.values.set(key, (c.values.get(key) ?? 0) + by);
  };
  const observe = (
    name: string,
    help: string,
    labels: Labels,
    value: number,
    buckets: readonly number[] = DURATION_BUCKETS,
  ) => {
    let h = histograms.get(name);
    if (!h) histograms.set(name, (h = { help, bounds: buckets, values: new Map() }));
    const key = labelKey(labels);
    let v = h.values.get(key);
    if (!v) h.values.set(key, (v = { buckets: h.bounds.map(() => 0), sum: 0, count: 0 }));
    h.bounds.forEach((le, i) => {
      if (value <= le) v.buckets[i] = (v.buckets[i] ?? 0) + 1;
    });
    v.sum += value;
    v.count += 1;
  };

  const observeStore: Metrics['observeStore'] = (store, operation, seconds, failed) => {
    observe(
      'candor_store_operation_duration_seconds',
      'Storage operation latency.',
      { store, operation },
      seconds,
    );
    if (failed) inc('candor_store_errors_total', 'Storage operations that failed.', { store, operation });
  };

  return {
    observeRequest(method, route, status, seconds) {
      const labels = { method, route, status: String(status) };
      inc('http_requests_total', 'HTTP requests served.', labels);
      observe('http_request_duration_seconds', 'HTTP request latency.', { method, route }, seconds);
    },
    countError(code) {
      inc('http_errors_total', 'HTTP error answers by error code.', { code });
    },
    observeStore,
    instrument(store, target) {
      return new Proxy(target, {
        get(obj, prop, receiver) {
          const value: unknown = Reflect.get(obj, prop, receiver);
          if (typeof value !== 'function' || typeof prop !== 'string') return value;
          return (...args: unknown[]) => {
            const started = performance.now();
            const result: unknown = (value as (...a: unknown[]) => unknown).apply(obj, args);
            if (!(result instanceof Promise)) return result;
            return result.then(
              (r: unknown) => {
                observeStore(store, prop, (performance.now() - started) / 1000, false);
                return r;
              },
              (e: unknown) => {
                observeStore(store, prop, (performance.now() - started) / 1000, true);
                throw e;
              },
            );
          };
        },
      });
    },
    observe,
    gauge(name, help, read) {
      gauges.set(name, { help, read });
    },
    beforeRender(fn) {
      renderHooks.push(fn);
    },
    render() {
      for (const hook of renderHooks) hook();
      const lines: string[] = [];
      const withLabels = (name: string, key: string, extra = '') => {
        const all = [key, extra].filter(Boolean).join(',');
        return all ? `${name}{${all}}` : name;
      };
      for (const [name, c] of counters) {
        lines.push(`# HELP ${name} ${c.help}`, `# TYPE ${name} counter`);
        for (const [key, v] of c.values) lines.push(`${withLabels(name, key)} ${v}`);
      }
      for (const [name, h] of histograms) {
        lines.push(`# HELP ${name} ${h.help}`, `# TYPE ${name} histogram`);
        for (const [key, v] of h.values) {
          h.bounds.forEach((le, i) => {
            lines.push(`${withLabels(`${name}_bucket`, key, `le="${le}"`)} ${v.buckets[i] ?? 0}`);
          });
          lines.push(`${withLabels(`${name}_bucket`, key, 'le="+Inf"')} ${v.count}`);
          lines.push(`${withLabels(`${name}_sum`, key)} ${v.sum}`);
          lines.push(`${withLabels(`${name}_count`, key)} ${v.count}`);
        }
      }
      for (const [name, g] of gauges) {
        lines.push(`# HELP ${name} ${g.help}`, `# TYPE ${name} gauge`, `${name} ${g.read()}`);
      }
      return `${lines.join('\n')}\n`;
    },
  };
}
