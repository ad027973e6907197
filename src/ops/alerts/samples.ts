import type { Registry } from 'prom-client';
import type { InstantSeries, MetricSource, RangeSeries, Sample } from './eval.js';
import { labelKey } from './eval.js';
import type { Labels } from './expr.js';

/** What the manager reads each tick: prom-client's Registry, or anything with the same JSON. */
export type MetricsRegistry = Pick<Registry, 'getMetricsAsJSON'>;

/**
 * The registry read once per tick, plus a bounded history of samples for the metrics that rules take rate() or
 * increase() of. Only those metrics are kept, and only for the longest window a rule reads them over, so memory
 * is series × window / interval samples.
 */
export class SampleStore implements MetricSource {
  private current = new Map<string, InstantSeries[]>();
  private readonly history = new Map<string, Map<string, { labels: Labels; samples: Sample[] }>>();

  /**
   * @param instant metric names read instantly (names as exposed: a histogram's `…_bucket`, `…_sum`, `…_count`)
   * @param windows metric names read over a range → the longest range in ms
   * @param maxSamples a cap per series whatever the tick rate, in case evaluate() is called in a tight loop
   */
  constructor(
    private readonly instantMetrics: ReadonlySet<string>,
    private readonly windows: ReadonlyMap<string, number>,
    private readonly maxSamples = 2000,
  ) {}

  /** Takes one reading of the registry at `now`. */
  async scrape(registry: MetricsRegistry, now: number): Promise<void> {
    const metrics = await registry.getMetricsAsJSON();
    const current = new Map<string, InstantSeries[]>();
    const seen = new Set<string>();
    for (const metric of metrics) {
      for (const v of metric.values as {
        value: number;
        labels: Record<string, unknown>;
        metricName?: string;
      }[]) {
        const name = v.metricName ?? metric.name;
        const wantInstant = this.instantMetrics.has(name);
        const window = this.windows.get(name);
        if (!wantInstant && window === undefined) continue;
        const labels: Labels = {};
        for (const [k, lv] of Object.entries(v.labels)) if (lv !== undefined) labels[k] = String(lv);
        if (wantInstant) {
          const list = current.get(name) ?? [];
          list.push({ labels, value: v.value });
          current.set(name, list);
        }
        if (window !== undefined) {
          const key = labelKey(labels);
          seen.add(`${name}\0${key}`);
          const byLabels = this.history.get(name) ?? new Map();
          this.history.set(name, byLabels);
          const series = byLabels.get(key) ?? { labels, samples: [] };
          byLabels.set(key, series);
          series.samples.push({ t: now, v: v.value });
        }
      }
    }
    this.current = current;
    this.prune(now, seen);
  }

  private prune(now: number, seen: Set<string>): void {
    for (const [name, byLabels] of this.history) {
      const oldest = now - (this.windows.get(name) ?? 0);
      for (const [key, series] of byLabels) {
        const s = series.samples;
        let drop = 0;
        while (drop < s.length && s[drop]!.t < oldest) drop++;
        drop = Math.max(drop, s.length - this.maxSamples);
        if (drop > 0) s.splice(0, drop);
        // A series gone from the registry is forgotten once its samples have aged out of every window.
        if (s.length === 0 && !seen.has(`${name}\0${key}`)) byLabels.delete(key);
      }
    }
  }

  instant(metric: string): readonly InstantSeries[] {
    return this.current.get(metric) ?? [];
  }

  range(metric: string): readonly RangeSeries[] {
    return [...(this.history.get(metric)?.values() ?? [])];
  }
}
