/**
 * Daily demand forecasting for one series: candidate models, a rolling-origin backtest that picks one
 * per series, and prediction intervals from the chosen model's backtest errors.
 *
 * Candidates: seasonal-naive (weekly; also the baseline every answer reports), moving average (7 and 28
 * days), Holt-Winters additive with a weekly season (smoothing parameters chosen on a small grid by
 * in-sample one-step error) and Croston (SBA-corrected) for intermittent demand. The backtest cuts the
 * history at up to `folds` origins a week apart, forecasts the next `horizon` days from each and scores
 * MASE (scaled by the in-sample weekly seasonal-naive error) and sMAPE; the lowest mean MASE wins (ties:
 * the simpler model, in CANDIDATES order). Intervals are the point forecast ± z·σ, σ the root mean square
 * backtest error of the chosen model at that horizon step's distance (pooled by week), never below zero.
 */

export const SEASON = 7;

export const FORECAST_MODELS = [
  'seasonal_naive',
  'moving_average_7',
  'moving_average_28',
  'croston',
  'holt_winters',
] as const;
export type ForecastModel = (typeof FORECAST_MODELS)[number];

export type ForecastErrors = { mase: number | null; smape: number | null };

export type SeriesForecast = {
  model: ForecastModel;
  /** Backtest errors of the chosen model and of the weekly seasonal-naive baseline (null: too little history). */
  errors: ForecastErrors;
  baseline: ForecastErrors;
  /** Mean MASE of every candidate that could be backtested. */
  candidates: Record<string, number>;
  /** Backtest origins used (0: history too short; the model then falls back by rule). */
  folds: number;
  points: {
    step: number;
    value: number;
    lower80: number;
    upper80: number;
    lower95: number;
    upper95: number;
  }[];
};

const Z80 = 1.2816;
const Z95 = 1.96;

const mean = (xs: readonly number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

export function seasonalNaive(y: readonly number[], h: number, m = SEASON): number[] {
  if (y.length === 0) return new Array<number>(h).fill(0);
  if (y.length < m) return new Array<number>(h).fill(y[y.length - 1]!);
  return Array.from({ length: h }, (_, i) => y[y.length - m + (i % m)]!);
}

export function movingAverage(y: readonly number[], h: number, w: number): number[] {
  return new Array<number>(h).fill(mean(y.slice(-w)));
}

/** Croston's method with the Syntetos–Boylan correction: demand size over interval, both smoothed. */
export function croston(y: readonly number[], h: number, alpha = 0.1): number[] {
  let size: number | null = null;
  let interval: number | null = null;
  let gap = 1;
  for (const v of y) {
    if (v > 0) {
      size = size === null ? v : size + alpha * (v - size);
      interval = interval === null ? gap : interval + alpha * (gap - interval);
      gap = 1;
    } else gap++;
  }
  const f = size === null || interval === null ? 0 : (1 - alpha / 2) * (size / interval);
  return new Array<number>(h).fill(f);
}

type HwParams = { alpha: number; beta: number; gamma: number };

/** Additive Holt-Winters; returns the in-sample one-step SSE and the h-step forecast. */
function holtWintersRun(
  y: readonly number[],
  h: number,
  p: HwParams,
  m = SEASON,
): { sse: number; forecast: number[] } {
  const first = y.slice(0, m);
  const second = y.slice(m, 2 * m);
  let level = mean(first);
  let trend = (mean(second) - mean(first)) / m;
  const season = first.map((v) => v - level);
  let sse = 0;
  for (let t = m; t < y.length; t++) {
    const s = season[t % m]!;
    const fit = level + trend + s;
    const v = y[t]!;
    sse += (v - fit) ** 2;
    const prevLevel = level;
    level = p.alpha * (v - s) + (1 - p.alpha) * (level + trend);
    trend = p.beta * (level - prevLevel) + (1 - p.beta) * trend;
    season[t % m] = p.gamma * (v - level) + (1 - p.gamma) * s;
  }
  const n = y.length;
  return {
    sse,
    forecast: Array.from({ length: h }, (_, i) => level + (i + 1) * trend + season[(n + i) % m]!),
  };
}

const HW_GRID: HwParams[] = [];
for (const alpha of [0.05, 0.2, 0.5])
  for (const beta of [0, 0.02, 0.1])
    for (const gamma of [0.05, 0.2, 0.5]) HW_GRID.push({ alpha, beta, gamma });

export function holtWinters(y: readonly number[], h: number, m = SEASON): number[] {
  if (y.length < 2 * m) return seasonalNaive(y, h, m);
  let best: { sse: number; forecast: number[] } | null = null;
  for (const p of HW_GRID) {
    const r = holtWintersRun(y, h, p, m);
    if (best === null || r.sse < best.sse) best = r;
  }
  return best!.forecast;
}

/** A candidate's h-step forecast, or null when the history is too short for it. */
export function forecastWith(model: ForecastModel, y: readonly number[], h: number): number[] | null {
  switch (model) {
    case 'seasonal_naive':
      return y.length >= SEASON ? seasonalNaive(y, h) : null;
    case 'moving_average_7':
      return y.length >= 7 ? movingAverage(y, h, 7) : null;
    case 'moving_average_28':
      return y.length >= 28 ? movingAverage(y, h, 28) : null;
    case 'croston':
      return y.some((v) => v > 0) ? croston(y, h) : null;
    case 'holt_winters':
      return y.length >= 3 * SEASON ? holtWinters(y, h) : null;
  }
}

/** Mean absolute error of the in-sample weekly seasonal-naive forecast: the MASE scale. */
export function maseScale(train: readonly number[], m = SEASON): number | null {
  if (train.length <= m) return null;
  let s = 0;
  for (let t = m; t < train.length; t++) s += Math.abs(train[t]! - train[t - m]!);
  return s / (train.length - m);
}

/** Symmetric MAPE in percent; a day where both actual and forecast are 0 counts as no error. */
export function smape(actual: readonly number[], forecast: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const f = forecast[i]!;
    const d = Math.abs(a) + Math.abs(f);
    s += d === 0 ? 0 : (2 * Math.abs(a - f)) / d;
  }
  return (100 * s) / actual.length;
}

const r4 = (x: number) => Math.round(x * 10_000) / 10_000;

/** Forecasts `horizon` days after the end of `y` (daily demand, oldest first). */
export function forecastSeries(y: readonly number[], horizon: number, folds = 3): SeriesForecast {
  // Origins a week apart, each leaving `horizon` days to score and at least 4 weeks to learn from.
  const origins: number[] = [];
  for (let f = 0; f < folds; f++) {
    const origin = y.length - horizon - f * SEASON;
    if (origin >= 4 * SEASON) origins.push(origin);
  }
  const errs = new Map<ForecastModel, { mase: number[]; smape: number[]; residuals: number[][] }>();
  for (const model of FORECAST_MODELS) {
    const e = { mase: [] as number[], smape: [] as number[], residuals: [] as number[][] };
    let ok = origins.length > 0;
    for (const origin of origins) {
      const train = y.slice(0, origin);
      const actual = y.slice(origin, origin + horizon);
      const fc = forecastWith(model, train, horizon);
      const scale = maseScale(train);
      if (fc === null) {
        ok = false;
        break;
      }
      const mae = mean(actual.map((a, i) => Math.abs(a - fc[i]!)));
      // A flat history (scale 0) makes MASE undefined; a perfect forecast of it scores 0, any miss a large penalty.
      e.mase.push(scale !== null && scale > 0 ? mae / scale : mae === 0 ? 0 : 1e6);
      e.smape.push(smape(actual, fc));
      e.residuals.push(actual.map((a, i) => a - fc[i]!));
    }
    if (ok) errs.set(model, e);
  }

  const candidates: Record<string, number> = {};
  let chosen: ForecastModel | null = null;
  for (const model of FORECAST_MODELS) {
    const e = errs.get(model);
    if (!e) continue;
    const m = mean(e.mase);
    candidates[model] = r4(m);
    if (chosen === null || m < mean(errs.get(chosen)!.mase)) chosen = model;
  }
  // Too short to backtest: the weekly seasonal naive when a week is known, else the mean of what there is.
  const model: ForecastModel = chosen ?? (y.length >= SEASON ? 'seasonal_naive' : 'moving_average_7');
  const point = forecastWith(model, y, horizon) ?? movingAverage(y, horizon, Math.max(1, y.length));
  const summary = (m: ForecastModel): ForecastErrors => {
    const e = errs.get(m);
    return e ? { mase: r4(mean(e.mase)), smape: r4(mean(e.smape)) } : { mase: null, smape: null };
  };

  // σ per forecast week from the chosen model's backtest residuals; without a backtest, the spread of
  // the history's week-on-week changes (what seasonal naive would have missed by).
  const res = errs.get(model)?.residuals ?? [];
  const fallback = Math.sqrt(mean(y.slice(SEASON).map((v, i) => (v - y[i]!) ** 2))) || Math.sqrt(mean(y));
  const sigmaAt = (step: number): number => {
    const week = Math.floor((step - 1) / SEASON);
    const sq: number[] = [];
    for (const r of res)
      for (let i = week * SEASON; i < Math.min(r.length, (week + 1) * SEASON); i++) sq.push(r[i]! ** 2);
    return sq.length > 0 ? Math.sqrt(mean(sq)) : fallback;
  };
  const clip = (v: number) => r4(Math.max(0, v));
  return {
    model,
    errors: summary(model),
    baseline: summary('seasonal_naive'),
    candidates,
    folds: errs.size > 0 ? origins.length : 0,
    points: point.map((v, i) => {
      const s = sigmaAt(i + 1);
      return {
        step: i + 1,
        value: clip(v),
        lower80: clip(v - Z80 * s),
        upper80: clip(v + Z80 * s),
        lower95: clip(v - Z95 * s),
        upper95: clip(v + Z95 * s),
      };
    }),
  };
}
