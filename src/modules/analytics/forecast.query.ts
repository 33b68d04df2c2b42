/**
 * Demand forecasts: daily units ordered per product or per category over the history window, each series
 * forecast for the next `horizon` days (forecast.ts picks its model by backtest).
 *
 * Demand is read from `order_completed` items (`props.items[]`: productId, quantity (default 1),
 * category); an item without a category takes the product's category from its views and cart events in
 * the window, else `uncategorised`. The history ends at the end of `asOf`'s UTC day minus one (the last
 * whole day) and spans `historyDays` days; days without orders count as zero demand from the series'
 * first sale on. The series with the
 * most units are forecast, up to `limit`, or exactly the `ids` asked for.
 */
import { sql } from 'kysely';
import type { EventStore } from '../../storage/ports.ts';
import { forecastSeries, type SeriesForecast } from './forecast.ts';
import { byteCompare, DAY_MS, dayOf, inRange, msOf, num, type TimeRange } from './sql.ts';

export type ForecastParams = {
  level: 'product' | 'category';
  horizon: 14 | 28;
  /** Epoch ms; the history ends with the last whole UTC day before it. */
  asOf: number;
  historyDays: number;
  limit: number;
  ids?: readonly string[];
};

export type ForecastResult = {
  level: 'product' | 'category';
  horizon: number;
  history: { from: string; to: string; days: number };
  series: ({
    key: string;
    units: number;
    shoppers: number;
    forecastDays: string[];
  } & SeriesForecast)[];
};

type Item = { productId?: unknown; quantity?: unknown; category?: unknown };

const label = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);

export async function forecastQuery(events: EventStore, p: ForecastParams): Promise<ForecastResult> {
  const d = events.dialect;
  const endDay = Math.floor(p.asOf / DAY_MS); // exclusive: today is not whole yet
  const startDay = endDay - p.historyDays;
  const range: TimeRange = { from: startDay * DAY_MS, to: endDay * DAY_MS };
  const orders = await sql<{ day: unknown; subject_id: string; props: string }>`
    select ${dayOf(d, msOf(d))} as day, subject_id, props from events
    where ${inRange(range)} and type = 'order_completed'`.execute(events.db);
  const cats = new Map<string, string>();
  if (p.level === 'category') {
    const rows = await sql<{ product_id: string; category: string }>`
      select product_id, min(category) as category from events
      where ${inRange(range)} and product_id is not null and category is not null
        and type in ('product_view', 'add_to_cart', 'search_click')
      group by product_id`.execute(events.db);
    for (const r of rows.rows) cats.set(r.product_id, r.category);
  }

  const series = new Map<string, { y: number[]; shoppers: Set<string>; units: number }>();
  for (const o of orders.rows) {
    let items: unknown;
    try {
      items = (JSON.parse(o.props) as { items?: unknown }).items;
    } catch {
      continue; // props are written by ingest as JSON; an unreadable row holds no demand to count
    }
    if (!Array.isArray(items)) continue;
    const t = num(o.day) - startDay;
    if (t < 0 || t >= p.historyDays) continue;
    for (const it of items as Item[]) {
      if (typeof it !== 'object' || it === null || typeof it.productId !== 'string') continue;
      const qty = typeof it.quantity === 'number' && it.quantity >= 0 ? it.quantity : 1;
      const key =
        p.level === 'product'
          ? it.productId
          : typeof it.category === 'string' && it.category.length > 0
            ? it.category
            : (cats.get(it.productId) ?? 'uncategorised');
      if (p.ids && !p.ids.includes(key)) continue;
      let s = series.get(key);
      if (!s) {
        s = { y: new Array<number>(p.historyDays).fill(0), shoppers: new Set(), units: 0 };
        series.set(key, s);
      }
      s.y[t]! += qty;
      s.units += qty;
      s.shoppers.add(o.subject_id);
    }
  }

  const chosen = [...series.entries()]
    .sort((a, b) => b[1].units - a[1].units || byteCompare(a[0], b[0]))
    .slice(0, p.ids ? p.ids.length : p.limit);
  const forecastDays = Array.from({ length: p.horizon }, (_, i) => label(endDay + i));
  return {
    level: p.level,
    horizon: p.horizon,
    history: { from: label(startDay), to: label(endDay - 1), days: p.historyDays },
    series: chosen.map(([key, s]) => ({
      key,
      units: s.units,
      shoppers: s.shoppers.size,
      forecastDays,
      // Days before a series' first sale are before the product was on sale, not days of zero demand.
      ...forecastSeries(
        s.y.slice(
          Math.max(
            0,
            s.y.findIndex((v) => v > 0),
          ),
        ),
        p.horizon,
      ),
    })),
  };
}
