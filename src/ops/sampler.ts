import { JOB_NAMES } from '../pipeline/jobs.js';
import { type QueueSample, type StageArrivals, sampleQueues } from '../pipeline/queues.js';
import type { Cache } from '../platform/cache/cache.js';
import type { Queryable } from '../platform/db/pool.js';
import type { Metrics } from '../platform/metrics/metrics.js';
import { bucketQuantile, upperBoundOf } from '../platform/metrics/quantile.js';
import { deadLetterReportCount, deadlineBreachCounts } from '../review/deadlines.repository.js';
import type { ClusterSeries } from './cluster-metrics.js';
import { machineCpuSeconds } from './cpu.js';
import type { OpsOverview, OpsPoint, OpsStagePoint } from './overview.schema.js';
import type { SamplerHealth } from './sampler-health.js';

const MINUTES_KEPT = 60;

/** Work that closes its own minute with the dashboard's (capacity recording) and reports its own failures. */
export interface MinuteListener {
  minute(now: number, run: { wholePath: boolean; everyMs: number }): Promise<void>;
}

export interface OpsSamplerOptions {
  pool: Queryable;
  metrics: Pick<
    Metrics,
    | 'registry'
    | 'httpRequests'
    | 'httpDuration'
    | 'stageCompletions'
    | 'stageDepth'
    | 'stageOldest'
    | 'stageWorkers'
    | 'stageDesiredWorkers'
    | 'stageBatching'
    | 'reviewDeadlineBreaches'
    | 'deadLetterReports'
  >;
  cache: Pick<Cache, 'stats'>;
  arrivals: Pick<StageArrivals, 'total'>;
  breakers: () => Record<string, number>;
  health: SamplerHealth;
  minuteListeners?: MinuteListener[];
  /** With REDIS_URL: where every process's minutes meet, so the overview's series is the cluster's. */
  shared?: Pick<ClusterSeries, 'push' | 'series'> | null;
}

/** Counts since start at one moment; a point is the difference of two. */
interface Totals {
  at: number;
  submissions: number;
  requests: number;
  errors: number;
  /** HTTP duration buckets, all routes: upper bound → cumulative count. */
  buckets: Map<number, number>;
  completed: Record<string, number>;
  cache: Record<string, { hits: number; total: number }>;
  cpu: number;
}

const ZERO: Totals = {
  at: 0,
  submissions: 0,
  requests: 0,
  errors: 0,
  buckets: new Map(),
  completed: {},
  cache: {},
  cpu: 0,
};

/**
 * The operator's view of this process: every sample interval the queues are read from the database (all processes'
 * work) into the stage gauges, and every minute a point is added to an hour of per-minute series kept in memory —
 * submissions, HTTP rate, errors and latency percentiles, queue depth and age, workers, cache hit rates, breakers,
 * event-loop lag, CPU and memory. The minute listeners close theirs at the same moment.
 */
export class OpsSampler {
  private readonly series: OpsPoint[] = [];
  private latestQueues: Record<string, QueueSample> = {};
  private last: Totals | null = null;
  private sampleMs = 10_000;
  private pointMs = 60_000;
  private wholePath = false;
  private timer: NodeJS.Timeout | null = null;
  private minuteTimer: NodeJS.Timeout | null = null;
  private sampling: Promise<unknown> = Promise.resolve();
  private closing: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: OpsSamplerOptions) {}

  /** `wholePath`: this process runs the API and every report stage (told to the minute listeners). */
  start(opts: { wholePath: boolean; sampleMs?: number; pointMs?: number }): void {
    this.wholePath = opts.wholePath;
    this.sampleMs = opts.sampleMs ?? this.sampleMs;
    this.pointMs = opts.pointMs ?? this.pointMs;
    const sample = () => {
      this.sampling = this.sampleQueues();
    };
    const minute = () => {
      this.closing = this.minute();
    };
    sample();
    this.timer = setInterval(sample, this.sampleMs);
    this.timer.unref();
    minute();
    this.minuteTimer = setInterval(minute, this.pointMs);
    this.minuteTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.minuteTimer) clearInterval(this.minuteTimer);
    await Promise.all([this.sampling, this.closing]);
  }

  /** Reads the queues into the stage gauges; a failure is reported (SamplerHealth) and leaves the last reading. */
  async sampleQueues(): Promise<void> {
    await this.opts.health.attempt('queues', this.sampleMs, async () => {
      const queues = await sampleQueues(this.opts.pool);
      this.latestQueues = queues;
      for (const [stage, q] of Object.entries(queues)) {
        this.opts.metrics.stageDepth.set({ stage }, q.depth);
        this.opts.metrics.stageOldest.set({ stage }, q.oldestAgeSeconds);
      }
    });
    await this.sampleDeadlines();
  }

  /** Reads the deadline breaches and the dead-letter reports into their gauges (the alerts on them). */
  async sampleDeadlines(): Promise<void> {
    await this.opts.health.attempt('deadlines', this.sampleMs, async () => {
      const [breaches, dead] = await Promise.all([
        deadlineBreachCounts(this.opts.pool),
        deadLetterReportCount(this.opts.pool),
      ]);
      this.opts.metrics.reviewDeadlineBreaches.set({ kind: 'review' }, breaches.review);
      this.opts.metrics.reviewDeadlineBreaches.set({ kind: 'legal' }, breaches.legal);
      this.opts.metrics.deadLetterReports.set(dead);
    });
  }

  /** Closes the minute: one point from the difference of the totals now and a minute ago (none the first time). */
  async minute(now = Date.now()): Promise<OpsPoint | null> {
    const point = await this.opts.health.attempt('points', this.pointMs, async () => {
      const totals = await this.totals(now);
      const prev = this.last;
      this.last = totals;
      if (!prev) return null;
      const p = await this.point(totals, prev);
      this.series.push(p);
      if (this.series.length > MINUTES_KEPT) this.series.shift();
      // Not sharing it (Redis away) leaves this process's own minutes, which the overview then shows.
      await this.opts.shared?.push(p).catch(() => {});
      return p;
    });
    const run = { wholePath: this.wholePath, everyMs: this.pointMs };
    for (const listener of this.opts.minuteListeners ?? []) await listener.minute(now, run);
    return point ?? null;
  }

  /** The signals now (since start for counts), the last hour per minute, and whether the readings keep up. */
  async overview(): Promise<OpsOverview> {
    const now = await this.point(await this.totals(Date.now()), ZERO);
    // The cluster's minutes when shared (this process's own if Redis does not answer).
    const series = (await this.opts.shared?.series().catch(() => null)) ?? [...this.series];
    return { now, series, sampling: this.opts.health.state() };
  }

  private async totals(at: number): Promise<Totals> {
    const m = this.opts.metrics;
    let requests = 0;
    let errors = 0;
    for (const v of (await m.httpRequests.get()).values) {
      requests += v.value;
      if (v.labels.status_class === '5xx') errors += v.value;
    }
    const buckets = new Map<number, number>();
    for (const v of (await m.httpDuration.get()).values) {
      if (!v.metricName?.endsWith('_bucket')) continue;
      const le = upperBoundOf(v.labels);
      buckets.set(le, (buckets.get(le) ?? 0) + v.value);
    }
    const completed: Record<string, number> = {};
    for (const v of (await m.stageCompletions.get()).values) completed[String(v.labels.stage)] = v.value;
    const cache = Object.fromEntries(
      Object.entries(this.opts.cache.stats()).map(([ns, c]) => [
        ns,
        { hits: c.hits + c.stale, total: c.hits + c.stale + c.misses },
      ]),
    );
    return {
      at,
      submissions: this.opts.arrivals.total('validate'),
      requests,
      errors,
      buckets,
      completed,
      cache,
      cpu: machineCpuSeconds(),
    };
  }

  private async point(t: Totals, p: Totals): Promise<OpsPoint> {
    const m = this.opts.metrics;
    const buckets = [...t.buckets]
      .map(([upper, count]) => ({ upper, count: count - (p.buckets.get(upper) ?? 0) }))
      .sort((a, b) => a.upper - b.upper);
    const q = (x: number) => {
      const s = bucketQuantile(x, buckets);
      return s === null ? null : Math.round(s * 1e5) / 100;
    };
    const gauge = async (g: {
      get(): Promise<{ values: { labels: Record<string, unknown>; value: number }[] }>;
    }) => Object.fromEntries((await g.get()).values.map((v) => [String(v.labels.stage), v.value]));
    const [workers, desired, batching] = await Promise.all([
      gauge(m.stageWorkers),
      gauge(m.stageDesiredWorkers),
      gauge(m.stageBatching),
    ]);
    const stages: Record<string, OpsStagePoint> = {};
    for (const stage of JOB_NAMES) {
      stages[stage] = {
        ...(this.latestQueues[stage] ?? { depth: 0, oldestAgeSeconds: 0 }),
        workers: workers[stage] ?? 0,
        desiredWorkers: desired[stage] ?? workers[stage] ?? 0,
        batching: batching[stage] === 1,
        completed: (t.completed[stage] ?? 0) - (p.completed[stage] ?? 0),
      };
    }
    const lag = (await m.registry.getSingleMetric('nodejs_eventloop_lag_p99_seconds')?.get())?.values[0]
      ?.value;
    return {
      at: new Date(t.at).toISOString(),
      submissions: t.submissions - p.submissions,
      http: {
        requests: t.requests - p.requests,
        errors: t.errors - p.errors,
        p50Ms: q(0.5),
        p95Ms: q(0.95),
        p99Ms: q(0.99),
      },
      stages,
      cacheHitRate: Object.fromEntries(
        Object.entries(t.cache).map(([ns, c]) => {
          const total = c.total - (p.cache[ns]?.total ?? 0);
          return [ns, total ? (c.hits - (p.cache[ns]?.hits ?? 0)) / total : null];
        }),
      ),
      breakers: this.opts.breakers(),
      eventLoopLagP99Ms: Math.round((lag ?? 0) * 1e5) / 100,
      cpuSeconds: Math.round((t.cpu - p.cpu) * 1000) / 1000,
      rssBytes: process.memoryUsage.rss(),
    };
  }
}
