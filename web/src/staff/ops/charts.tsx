import { useEffect, useId, useRef, useState } from 'react';
import type uPlot from 'uplot';
// Its stylesheet (1.8 kB) comes with the dashboard; the script only with the first chart.
import 'uplot/dist/uPlot.min.css';

/**
 * Charts of the operator dashboard. The time charts are uPlot (canvas; ~21 kB gzip, loaded with the first chart so
 * the dashboard's figures never wait for it): hover shows each minute's values, and an hour of per-minute points
 * redraws in well under a millisecond on every poll. The table cells' sparklines stay plain SVG. Missing values (no
 * traffic: no latency) break the line instead of drawing a false zero.
 */
export interface ChartSeries {
  name: string;
  /** s1…s8: the series colours (each ≥ 3:1 against white; s1–s4 as staff.css's swatches). */
  className: keyof typeof COLOURS;
  values: (number | null)[];
}

const COLOURS = {
  s1: '#0b5cab',
  s2: '#bc4c00',
  s3: '#6639ba',
  s4: '#b42318',
  s5: '#1a7f37',
  s6: '#8a5a00',
  s7: '#0f6e6e',
  s8: '#5c5c5c',
} as const;

/** Colours for series by position (stages, namespaces): s1, s2, … */
export const seriesColour = (i: number): ChartSeries['className'] =>
  `s${(i % Object.keys(COLOURS).length) + 1}` as ChartSeries['className'];
const HEIGHT = 170;

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

const countPoints = (values: ArrayLike<number | null | undefined> | undefined) => {
  let n = 0;
  for (let i = 0; i < (values?.length ?? 0); i++) if (values![i] != null) n++;
  return n;
};

let uplotModule: Promise<typeof uPlot> | null = null;
const loadUplot = () => {
  uplotModule ??= import('uplot').then((m) => m.default);
  return uplotModule;
};

/**
 * A time chart of the last hour: one line per series over `times` (ISO instants), the value axis from zero to a
 * round bound, the time axis in Tashkent's clock (`timeLabel`), and uPlot's legend, which shows the values under
 * the pointer. `summary` (the latest values in words) is the chart's accessible description; the same numbers
 * stand in text beside it on the page.
 */
export function TimeChart({
  title,
  summary,
  times,
  series,
  format,
  timeLabel,
  timeName,
  floor = 1,
  testId,
}: {
  title: string;
  summary: string;
  times: string[];
  series: ChartSeries[];
  format: (v: number) => string;
  timeLabel: (iso: string) => string;
  /** The legend's name for the minute under the pointer. */
  timeName: string;
  floor?: number;
  testId?: string;
}) {
  const titleId = useId();
  const descId = useId();
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const [failed, setFailed] = useState(false);
  // The latest props, for the plot's callbacks (made once, with the chart).
  const current = useRef({ format, timeLabel, times });
  current.current = { format, timeLabel, times };

  const xs = times.map((t) => Date.parse(t) / 1000);
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const max = niceMax(Math.max(0, ...all), floor);
  const data: uPlot.AlignedData = [
    xs,
    ...series.map((s) => s.values.map((v) => (Number.isFinite(v) ? v : null))),
  ];
  const shape = series.map((s) => `${s.name}:${s.className}`).join('|');
  const points = all.length;

  // The plot is made once per set of series and given new data on every poll.
  // biome-ignore lint/correctness/useExhaustiveDependencies: `data` and `max` are applied by the effect below
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    let live = true;
    let observer: ResizeObserver | null = null;
    loadUplot().then(
      (UPlot) => {
        if (!live) return;
        const label = (v: number) => {
          const i = current.current.times.findIndex((t) => Date.parse(t) / 1000 === v);
          return i >= 0 ? current.current.timeLabel(current.current.times[i]!) : '';
        };
        const u = new UPlot(
          {
            width: el.clientWidth || 400,
            height: HEIGHT,
            scales: { x: { time: false }, y: { range: () => [0, max] } },
            series: [
              { label: timeName, value: (_u, v) => (v === null ? '—' : label(v)) },
              ...series.map((s) => ({
                label: s.name,
                stroke: COLOURS[s.className],
                width: 2,
                // Dots only while a series has too few points to draw a line.
                points: { show: (self: uPlot, si: number) => countPoints(self.data[si]) < 3 },
                value: (_u: uPlot, v: number | null) => (v === null ? '—' : current.current.format(v)),
              })),
            ],
            axes: [
              {
                space: 90,
                values: (_u, splits) => splits.map(label),
                splits: (u) => {
                  const x = u.data[0];
                  if (x.length <= 3) return [...x];
                  return [x[0]!, x[Math.floor((x.length - 1) / 2)]!, x[x.length - 1]!];
                },
              },
              {
                size: 64,
                splits: (u) => {
                  const top = u.scales.y?.max ?? 1;
                  return [0, top / 2, top];
                },
                values: (_u, splits) => splits.map((v) => current.current.format(v)),
              },
            ],
            legend: { live: true },
            cursor: { drag: { x: false, y: false } },
          },
          data,
          el,
        );
        plot.current = u;
        observer = new ResizeObserver(() => u.setSize({ width: el.clientWidth || 400, height: HEIGHT }));
        observer.observe(el);
      },
      () => live && setFailed(true),
    );
    return () => {
      live = false;
      observer?.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [shape]);

  useEffect(() => {
    const u = plot.current;
    if (!u) return;
    const y = u.scales.y;
    if (y) y.range = () => [0, max];
    u.setData(data);
  });

  return (
    <figure className="chart ops-chart" data-testid={testId} data-points={points}>
      <figcaption>
        <span className="chart-title" id={titleId}>
          {title}
        </span>
      </figcaption>
      <div
        ref={box}
        className="uplot-box"
        role="img"
        aria-labelledby={titleId}
        aria-describedby={descId}
        style={{ minHeight: HEIGHT }}
      />
      <p id={descId} className="sr-only">
        {summary}
      </p>
      {failed ? <p className="hint">{summary}</p> : null}
    </figure>
  );
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
