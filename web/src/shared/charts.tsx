/**
 * Small, dependency-free SVG charts. Each chart is an <figure> with a text alternative and a
 * "Show as table" disclosure holding the same numbers, so every chart is readable without sight or mouse.
 */
import { useId, type ReactNode } from 'react';
import { toCsv, download } from './format.ts';
import { useI18n } from './i18n.ts';

export type Column<R> = {
  key: string;
  label: string;
  value: (row: R) => string | number | null;
  /** Display text; defaults to the value. */
  render?: (row: R) => ReactNode;
  numeric?: boolean;
};

export function DataTable<R>(props: {
  caption: string;
  columns: readonly Column<R>[];
  rows: readonly R[];
  csvName?: string;
  rowKey?: (row: R, i: number) => string;
}): ReactNode {
  const { t } = useI18n();
  const { caption, columns, rows, csvName } = props;
  return (
    <div className="table-wrap">
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.key} scope="col" className={c.numeric ? 'num' : undefined}>
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={columns.length}>{t('app.none')}</td>
            </tr>
          ) : (
            rows.map((r, i) => (
              <tr key={props.rowKey ? props.rowKey(r, i) : i}>
                {columns.map((c, j) =>
                  j === 0 ? (
                    <th key={c.key} scope="row" className={c.numeric ? 'num' : undefined}>
                      {c.render ? c.render(r) : c.value(r)}
                    </th>
                  ) : (
                    <td key={c.key} className={c.numeric ? 'num' : undefined}>
                      {c.render ? c.render(r) : c.value(r)}
                    </td>
                  ),
                )}
              </tr>
            ))
          )}
        </tbody>
      </table>
      {csvName && rows.length > 0 ? (
        <button
          type="button"
          className="link"
          onClick={() =>
            download(
              csvName,
              toCsv(
                columns.map((c) => c.label),
                rows.map((r) => columns.map((c) => c.value(r))),
              ),
            )
          }
        >
          {t('app.downloadCsv')} ({caption})
        </button>
      ) : null}
    </div>
  );
}

/** A chart with its table behind a disclosure (<details> works with keyboard and screen readers). */
export function ChartFigure(props: { title: string; summary: string; chart: ReactNode; table: ReactNode }) {
  const { t } = useI18n();
  const id = useId();
  return (
    <figure className="chart" aria-labelledby={id}>
      <figcaption id={id}>{props.title}</figcaption>
      <div role="img" aria-label={props.summary}>
        {props.chart}
      </div>
      {props.table ? (
        <details>
          <summary>{t('app.showTable')}</summary>
          {props.table}
        </details>
      ) : null}
    </figure>
  );
}

const W = 640;
const H = 220;
const PAD = { l: 48, r: 12, t: 12, b: 28 };

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** A null value is a gap (e.g. a group suppressed for privacy): the line breaks there. */
export type Series = { name: string; values: readonly (number | null)[]; className: string };

/** Polyline point lists split at nulls. */
function runs(values: readonly (number | null)[], at: (v: number, i: number) => string): string[] {
  const out: string[][] = [[]];
  values.forEach((v, i) => {
    if (v === null) out.push([]);
    else out.at(-1)!.push(at(v, i));
  });
  return out.filter((r) => r.length > 0).map((r) => r.join(' '));
}

/** Lines over a shared x axis (days). Values are scaled per chart; labels are the first, middle and last x. */
export function LineChart(props: {
  labels: readonly string[];
  series: readonly Series[];
  /** Fixed top of the y axis (e.g. 1 for rates); default: a round number above the largest value. */
  max?: number;
  /** Axis label text of a y value (default: the rounded number). */
  yLabel?: (v: number) => string;
}) {
  const { labels, series } = props;
  const max = props.max ?? niceMax(Math.max(0, ...series.flatMap((s) => s.values.filter((v) => v !== null))));
  const n = Math.max(1, labels.length - 1);
  const x = (i: number) => PAD.l + ((W - PAD.l - PAD.r) * i) / n;
  const y = (v: number) => H - PAD.b - ((H - PAD.t - PAD.b) * v) / max;
  const ticks = [0, max / 2, max];
  const shown =
    labels.length > 2 ? [0, Math.floor(labels.length / 2), labels.length - 1] : [0, labels.length - 1];
  return (
    <div>
      <svg viewBox={`0 0 ${W} ${H}`} className="svg-chart" aria-hidden="true" focusable="false">
        {ticks.map((v) => (
          <g key={v}>
            <line x1={PAD.l} x2={W - PAD.r} y1={y(v)} y2={y(v)} className="grid" />
            <text x={PAD.l - 6} y={y(v) + 4} textAnchor="end" className="axis">
              {props.yLabel ? props.yLabel(v) : Math.round(v)}
            </text>
          </g>
        ))}
        {shown.map((i) =>
          labels[i] === undefined ? null : (
            <text
              key={i}
              x={x(i)}
              y={H - 8}
              textAnchor={i === 0 ? 'start' : i === labels.length - 1 ? 'end' : 'middle'}
              className="axis"
            >
              {labels[i]}
            </text>
          ),
        )}
        {series.flatMap((s) =>
          runs(s.values, (v, i) => `${x(i)},${y(v)}`).map((points, j) =>
            // A run of one point is drawn as a dot so an isolated value stays visible.
            points.includes(' ') ? (
              <polyline key={`${s.name}-${j}`} className={`line ${s.className}`} points={points} />
            ) : (
              <circle
                key={`${s.name}-${j}`}
                className={`dot ${s.className}`}
                cx={points.split(',')[0]}
                cy={points.split(',')[1]}
                r={3}
              />
            ),
          ),
        )}
      </svg>
      <ul className="legend">
        {series.map((s) => (
          <li key={s.name}>
            <span className={`swatch ${s.className}`} aria-hidden="true" />
            {s.name}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Horizontal bars, one per row, with the value printed at the end of each bar. */
export function BarChart(props: { bars: readonly { label: string; value: number; text: string }[] }) {
  const rowH = 30;
  const h = props.bars.length * rowH + 8;
  const max = Math.max(1, ...props.bars.map((b) => b.value));
  const labelW = 170;
  return (
    <svg viewBox={`0 0 ${W} ${h}`} className="svg-chart" aria-hidden="true" focusable="false">
      {props.bars.map((b, i) => {
        const w = ((W - labelW - 90) * b.value) / max;
        return (
          <g key={`${b.label}-${i}`} transform={`translate(0 ${i * rowH + 4})`}>
            <text x={labelW - 8} y={18} textAnchor="end" className="axis">
              {b.label.length > 24 ? `${b.label.slice(0, 23)}…` : b.label}
            </text>
            <rect x={labelW} y={4} width={Math.max(1, w)} height={rowH - 10} className="bar" />
            <text x={labelW + w + 6} y={18} className="axis">
              {b.text}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

/** The background class of a heat-map cell: five steps from 0 to 1, text stays readable on each. */
export function heatClass(rate: number | null): string {
  if (rate === null) return 'heat-none';
  return `heat-${Math.min(4, Math.floor(rate * 5))}`;
}
