import { useId } from 'react';

/**
 * Charts of the operator dashboard in plain SVG: an hour of per-minute points is at most 60 values a series, which
 * a polyline draws in a few lines of code — no chart library in the bundle (uPlot would add ~20 kB gzip, ECharts
 * several hundred). Missing values (no traffic: no latency) break the line instead of drawing a false zero.
 */
export interface ChartSeries {
  name: string;
  /** s1…s4: the series colours of staff.css (each ≥ 3:1 against white). */
  className: string;
  values: (number | null)[];
}

const W = 400;
const H = 150;
const PAD = { left: 60, right: 8, top: 8, bottom: 24 };

/**
 * A round upper bound for the value axis, at least `floor`: 1, 2, 4, 6, 8 or 10 × a power of ten, so that the
 * middle line (half of it) is a whole number too whenever the bound is 2 or more.
 */
export function niceMax(v: number, floor = 1): number {
  if (v <= floor) return floor;
  const p = 10 ** Math.floor(Math.log10(v));
  const n = v / p;
  return ([1, 2, 4, 6, 8, 10].find((step) => n <= step) ?? 10) * p;
}

/** Runs of consecutive non-null values as polyline point lists. */
function segments(values: (number | null)[], x: (i: number) => number, y: (v: number) => number): string[] {
  const out: string[] = [];
  let run: string[] = [];
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) {
      if (run.length) out.push(run.join(' '));
      run = [];
    } else run.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
  });
  if (run.length) out.push(run.join(' '));
  return out;
}

/**
 * A time chart over the minutes of `labels`: value axis with its top and middle, time axis with the first, middle
 * and last minute, one line per series, a legend. `summary` (the latest values in words) is the chart's accessible
 * description; the same numbers stand in text beside it on the page.
 */
export function TimeChart({
  title,
  summary,
  labels,
  series,
  format,
  floor = 1,
  testId,
}: {
  title: string;
  summary: string;
  labels: string[];
  series: ChartSeries[];
  format: (v: number) => string;
  floor?: number;
  testId?: string;
}) {
  const titleId = useId();
  const descId = useId();
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const max = niceMax(Math.max(0, ...all), floor);
  const n = Math.max(1, labels.length - 1);
  const x = (i: number) => PAD.left + ((W - PAD.left - PAD.right) * i) / n;
  const y = (v: number) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - Math.min(v, max) / max);
  const xTicks =
    labels.length > 2 ? [0, Math.floor((labels.length - 1) / 2), labels.length - 1] : labels.map((_, i) => i);
  return (
    <figure className="chart ops-chart" data-testid={testId}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={titleId} aria-describedby={descId}>
        <title id={titleId}>{title}</title>
        <desc id={descId}>{summary}</desc>
        {[0, max / 2, max].map((v) => (
          <g key={v} className="chart-grid">
            <line x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} />
            <text x={PAD.left - 6} y={y(v)} dy="0.32em" textAnchor="end">
              {format(v)}
            </text>
          </g>
        ))}
        {xTicks.map((i) => (
          <text
            key={i}
            className="chart-axis"
            x={x(i)}
            y={H - 6}
            textAnchor={i === 0 ? 'start' : i === labels.length - 1 ? 'end' : 'middle'}
          >
            {labels[i]}
          </text>
        ))}
        {series.map((s) =>
          segments(s.values, x, y).map((points) =>
            points.includes(' ') ? (
              <polyline key={s.name + points} className={`chart-line ${s.className}`} points={points} />
            ) : (
              // A lone point (one minute of data so far) is a dot, not an invisible line.
              <circle
                key={s.name + points}
                className={`chart-dot ${s.className}`}
                cx={points.split(',')[0]}
                cy={points.split(',')[1]}
                r={3}
              />
            ),
          ),
        )}
      </svg>
      <figcaption>
        <span className="chart-title">{title}</span>
        {series.length > 1 ? (
          <span className="legend-row">
            {series.map((s) => (
              <span key={s.name} className="legend-item">
                <span className={`swatch ${s.className}`} aria-hidden="true" />
                {s.name}
              </span>
            ))}
          </span>
        ) : null}
      </figcaption>
    </figure>
  );
}

/**
 * A small line without axes for a table cell: the shape of the last hour next to the number now; `compare` is drawn
 * dashed on the same scale (e.g. the workers wanted beside the workers running).
 */
export function Sparkline({
  values,
  compare,
  label,
}: {
  values: (number | null)[];
  compare?: (number | null)[];
  label: string;
}) {
  const w = 120;
  const h = 28;
  const nums = [...values, ...(compare ?? [])].filter((v): v is number => v !== null && Number.isFinite(v));
  const max = Math.max(1, ...nums);
  const n = Math.max(1, values.length - 1);
  const x = (i: number) => 1 + ((w - 2) * i) / n;
  const y = (v: number) => h - 2 - ((h - 4) * v) / max;
  const draw = (vals: (number | null)[], className: string) =>
    segments(vals, x, y).map((points) =>
      points.includes(' ') ? (
        <polyline key={className + points} className={`chart-line ${className}`} points={points} />
      ) : (
        <circle
          key={className + points}
          className={`chart-dot ${className}`}
          cx={points.split(',')[0]}
          cy={points.split(',')[1]}
          r={2}
        />
      ),
    );
  return (
    <svg className="sparkline" viewBox={`0 0 ${w} ${h}`} width={w} height={h} role="img" aria-label={label}>
      <line className="spark-base" x1={0} x2={w} y1={h - 2} y2={h - 2} />
      {compare ? draw(compare, 's2 dashed') : null}
      {draw(values, 's1')}
    </svg>
  );
}
