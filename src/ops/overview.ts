import os from 'node:os';
import { JOB_NAMES } from '../pipeline/jobs.js';
import { type QueueSample, type StageArrivals, sampleQueues } from '../pipeline/queues.js';
import type { Cache } from '../platform/cache/cache.js';
import type { Pool } from '../platform/db/pool.js';
import type { Metrics } from '../platform/metrics/metrics.js';
import { type InstallationCpu, installationCpu } from './cpu.js';

const MINUTES_KEPT = 60;

export interface StagePoint extends QueueSample {
  workers: number;
  desiredWorkers: number;
  /** Whether the stage runs in batches in this process (workers only while a batch runs; 0 between batches). */
  batching: boolean;
  /** Items finished in this process during the minute (or, for `now`, since start). */
  completed: number;
}

export interface MinutePoint {
  at: string;
  /** Reports filed, all processes (heard by NOTIFY). */
  submissions: number;
  http: {
    requests: number;
    errors: number;
    p50Ms: number | null;
    p95Ms: number | null;
    p99Ms: number | null;
  };
  stages: Record<string, StagePoint>;
  cacheHitRate: Record<string, number | null>;
  breakers: Record<string, number>;
  eventLoopLagP99Ms: number;
  /** CPU the whole machine spent in the minute (all cores, all processes, the database's included). */
  cpuSeconds: number;
  rssBytes: number;
}

interface Totals {
  at: number;
  submissions: number;
  requests: number;
  errors: number;
  buckets: number[];
  completed: Record<string, number>;
  /** Transactions the intake and the stages committed (jarima_stage_batches_total, all stages). */
  batches: number;
  cache: Record<string, { hits: number; total: number }>;
  cpu: number;
}

/**
 * The operator's view of this process: every SAMPLE interval the queues are read from the database (all processes'
 * work) into the stage gauges, and every minute a point is added to an hour of per-minute series kept in memory —
 * submissions, HTTP rate, errors and latency percentiles, queue depth and age, workers, cache hit rates, breakers,
 * event-loop lag, CPU and memory. Each minute also records this installation's measured service times for
 * `jarima capacity`.
 */
export class OpsSampler {
  private readonly series: MinutePoint[] = [];
  private latestQueues: Record<string, QueueSample> = {};
  private last: Totals | null = null;
  private timer: NodeJS.Timeout | null = null;
  private minuteTimer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly deps: {
      pool: Pool;
      metrics: Metrics;
      cache: Cache;
      arrivals: StageArrivals;
      breakers: () => Record<string, number>;
    },
  ) {}

  private wholePath = false;

  /** `wholePath`: this process runs the API and every report stage, so its CPU per report can be measured. */
  start(opts: { wholePath: boolean; sampleMs?: number; pointMs?: number }): void {
    this.wholePath = opts.wholePath;
    const sampleMs = opts.sampleMs ?? 10_000;
    const sample = () => {
      this.running = this.sampleQueues().catch(() => {});
    };
    sample();
    this.timer = setInterval(sample, sampleMs);
    this.timer.unref();
    void this.minute();
    this.minuteTimer = setInterval(() => void this.minute(), opts.pointMs ?? 60_000);
    this.minuteTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.minuteTimer) clearInterval(this.minuteTimer);
    await this.running;
  }

  async sampleQueues(): Promise<void> {
    const queues = await sampleQueues(this.deps.pool);
    this.latestQueues = queues;
    for (const [stage, q] of Object.entries(queues)) {
      this.deps.metrics.stageDepth.set({ stage }, q.depth);
      this.deps.metrics.stageOldest.set({ stage }, q.oldestAgeSeconds);
    }
  }

  /** Closes the minute: one point from the difference of the totals now and a minute ago. */
  async minute(now = Date.now()): Promise<MinutePoint | null> {
    const totals = await this.totals(now);
    // The installation's own CPU (this process and a local PostgreSQL), for CPU per report: only where this
    // process carries the whole path, and read from /proc once a point rather than on every overview.
    const install = this.wholePath ? await installationCpu(this.deps.pool).catch(() => null) : null;
    const prev = this.last;
    const prevInstall = this.lastInstall;
    this.last = totals;
    this.lastInstall = install;
    if (!prev) return null;
    const point = await this.point(totals, prev);
    this.series.push(point);
    if (this.series.length > MINUTES_KEPT) this.series.shift();
    await this.recordMeasurements(totals, prev, install, prevInstall).catch(() => {});
    return point;
  }

  private lastInstall: InstallationCpu | null = null;

  /** The signals now (since start for counts) and the last hour per minute. */
  async overview(): Promise<{ now: MinutePoint; series: MinutePoint[] }> {
    const totals = await this.totals(Date.now());
    const zero: Totals = {
      at: 0,
      submissions: 0,
      requests: 0,
      errors: 0,
      buckets: totals.buckets.map(() => 0),
      completed: {},
      batches: 0,
      cache: {},
      cpu: 0,
    };
    return { now: await this.point(totals, zero), series: [...this.series] };
  }

  private async totals(at: number): Promise<Totals> {
    const m = this.deps.metrics;
    let requests = 0;
    let errors = 0;
    for (const v of (await m.httpRequests.get()).values) {
      requests += v.value;
      if (v.labels.status_class === '5xx') errors += v.value;
    }
    const byBound = new Map<number, number>();
    for (const v of (await m.httpDuration.get()).values) {
      if (!v.metricName?.endsWith('_bucket')) continue;
      const le = leOf(v.labels);
      byBound.set(le, (byBound.get(le) ?? 0) + v.value);
    }
    const bounds = [...byBound.keys()].sort((a, b) => a - b);
    const completed: Record<string, number> = {};
    for (const v of (await m.stageCompletions.get()).values) completed[String(v.labels.stage)] = v.value;
    let batches = 0;
    for (const v of (await m.stageBatches.get()).values) batches += v.value;
    const cache = Object.fromEntries(
      Object.entries(this.deps.cache.stats()).map(([ns, c]) => [
        ns,
        { hits: c.hits + c.stale, total: c.hits + c.stale + c.misses },
      ]),
    );
    return {
      at,
      submissions: this.deps.arrivals.total('validate'),
      requests,
      errors,
      buckets: bounds.map((b) => byBound.get(b)!),
      completed,
      batches,
      cache,
      cpu: machineCpuSeconds(),
    };
  }

  private async point(t: Totals, p: Totals): Promise<MinutePoint> {
    const m = this.deps.metrics;
    const bounds = (await m.httpDuration.get()).values
      .filter((v) => v.metricName?.endsWith('_bucket'))
      .map((v) => leOf(v.labels));
    const uniqueBounds = [...new Set(bounds)].sort((a, b) => a - b);
    const counts = t.buckets.map((c, i) => c - (p.buckets[i] ?? 0));
    const q = (x: number) => {
      const s = quantileFromCumulative(uniqueBounds, counts, x);
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
    const stages: Record<string, StagePoint> = {};
    for (const stage of JOB_NAMES) {
      stages[stage] = {
        ...(this.latestQueues[stage] ?? { depth: 0, oldestAgeSeconds: 0 }),
        workers: workers[stage] ?? 0,
        desiredWorkers: desired[stage] ?? workers[stage] ?? 0,
        batching: batching[stage] === 1,
        completed: (t.completed[stage] ?? 0) - (p.completed[stage] ?? 0),
      };
    }
    const lag = (await this.deps.metrics.registry.getSingleMetric('nodejs_eventloop_lag_p99_seconds')?.get())
      ?.values[0]?.value;
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
      breakers: this.deps.breakers(),
      eventLoopLagP99Ms: Math.round((lag ?? 0) * 1e5) / 100,
      cpuSeconds: Math.round((t.cpu - p.cpu) * 1000) / 1000,
      rssBytes: process.memoryUsage.rss(),
    };
  }

  /**
   * Keeps what this installation has measured about itself across restarts (capacity_measurements): each stage's
   * worker time per item, and — in a process running the whole path — the installation's CPU per report, as moving
   * averages.
   */
  private async recordMeasurements(
    t: Totals,
    p: Totals,
    install: InstallationCpu | null,
    prevInstall: InstallationCpu | null,
  ): Promise<void> {
    const names: string[] = [];
    const values: number[] = [];
    const samples: number[] = [];
    const service = new Map<string, { sum: number; count: number }>();
    for (const v of (await this.deps.metrics.stageService.get()).values) {
      const s = service.get(String(v.labels.stage)) ?? { sum: 0, count: 0 };
      if (v.metricName?.endsWith('_sum')) s.sum = v.value;
      if (v.metricName?.endsWith('_count')) s.count = v.value;
      service.set(String(v.labels.stage), s);
    }
    const prevService = this.prevService;
    this.prevService = service;
    for (const [stage, s] of service) {
      const before = prevService.get(stage) ?? { sum: 0, count: 0 };
      const n = s.count - before.count;
      if (n <= 0) continue;
      names.push(`service_seconds:${stage}`);
      values.push((s.sum - before.sum) / n);
      samples.push(n);
    }
    const reports = (t.completed.analyze ?? 0) - (p.completed.analyze ?? 0);
    if (install && prevInstall) {
      // PostgreSQL's share only when it was seen both times (it may have restarted in between: then none).
      const postgres =
        install.postgres !== null && prevInstall.postgres !== null && install.postgres >= prevInstall.postgres
          ? install.postgres - prevInstall.postgres
          : 0;
      await this.recordCpuFit(
        reports,
        install.process - prevInstall.process + postgres,
        postgres,
        (t.at - p.at) / 1000,
        t.cpu - p.cpu,
        t.batches - p.batches,
      );
    }
    if (!names.length) return;
    // A moving average weighted by how much each minute saw, so a quiet minute moves it little.
    await this.deps.pool.query(
      `insert into capacity_measurements (name, value, samples, updated_at)
       select name, value, n, now() from unnest($1::text[], $2::float8[], $3::bigint[]) as t(name, value, n)
       on conflict (name) do update set
         value = (capacity_measurements.value * least(capacity_measurements.samples, 10000) + excluded.value * excluded.samples)
                 / (least(capacity_measurements.samples, 10000) + excluded.samples),
         samples = capacity_measurements.samples + excluded.samples, updated_at = now()`,
      [names, values, samples],
    );
  }

  /**
   * The installation's CPU (src/ops/cpu.ts) and the reports it carried, interval by interval, split into intervals
   * without reports (its background: timers, the sampler, autovacuum) and with them. CPU per extra report is then
   * (busy CPU − the background's rate × busy time) / reports — an average per report would charge a quiet
   * interval's background to its few reports, and a least-squares slope over intervals is biased low by how unevenly
   * batch sweeps finish reports.
   */
  private async recordCpuFit(
    reports: number,
    cpuSeconds: number,
    postgresSeconds: number,
    seconds: number,
    /** The whole machine's CPU over the interval: what else runs here (other services, a load generator). */
    machineSeconds: number,
    /** Transactions committed over the interval (claims, group commits): why a band's reports cost what they do. */
    transactions: number,
  ): Promise<void> {
    // The same sums per band of throughput (reports/s, powers of two): the pipeline's cost per report falls with
    // load (claims of one or two at 20/s, of a hundred in a burst), so a ceiling is read from the busiest band seen.
    const band = `cpu_band:${cpuBand(reports / seconds)}`;
    const parts: [string, number][] =
      reports > 0
        ? [
            ['cpu_busy:cpu', cpuSeconds],
            ['cpu_busy:postgres', postgresSeconds],
            ['cpu_busy:seconds', seconds],
            ['cpu_busy:reports', reports],
            [`${band}:cpu`, cpuSeconds],
            [`${band}:postgres`, postgresSeconds],
            [`${band}:seconds`, seconds],
            [`${band}:reports`, reports],
            [`${band}:machine`, machineSeconds],
            [`${band}:transactions`, transactions],
          ]
        : [
            ['cpu_idle:cpu', cpuSeconds],
            ['cpu_idle:postgres', postgresSeconds],
            ['cpu_idle:seconds', seconds],
          ];
    await this.deps.pool.query(
      `insert into capacity_measurements (name, value, samples, updated_at)
       select name, value, 1, now() from unnest($1::text[], $2::float8[]) as t(name, value)
       on conflict (name) do update set value = capacity_measurements.value + excluded.value,
         samples = capacity_measurements.samples + 1, updated_at = now()`,
      [parts.map(([n]) => n), parts.map(([, v]) => v)],
    );
  }

  private prevService = new Map<string, { sum: number; count: number }>();
}

/** The throughput band of an interval: 2^k ≤ reports/s < 2^(k+1), k from 0 (under 2/s) to 12. */
export function cpuBand(reportsPerSecond: number): number {
  return Math.max(0, Math.min(12, Math.floor(Math.log2(Math.max(1, reportsPerSecond)))));
}

/**
 * CPU seconds the whole machine has spent busy since boot (every core, every process): the dashboard's "CPU cores
 * busy", which tells an operator how full the machine is. Capacity planning takes the installation's own CPU
 * instead (src/ops/cpu.ts), which does not count what else the machine runs.
 */
function machineCpuSeconds(): number {
  let ms = 0;
  for (const c of os.cpus()) ms += c.times.user + c.times.nice + c.times.sys + c.times.irq;
  return ms / 1000;
}

/** A histogram bucket's upper bound from its `le` label. */
function leOf(labels: Record<string, unknown>): number {
  return labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(labels.le);
}

/** The q-quantile (seconds) from per-bucket counts with upper bounds, interpolated inside the bucket. */
export function quantileFromCumulative(bounds: number[], cumulative: number[], q: number): number | null {
  const total = cumulative.at(-1) ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    if (cumulative[i]! >= rank) {
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      const upper = Number.isFinite(bounds[i]!) ? bounds[i]! : lower;
      const below = i === 0 ? 0 : cumulative[i - 1]!;
      const inBucket = cumulative[i]! - below;
      return inBucket > 0 ? lower + ((upper - lower) * (rank - below)) / inBucket : upper;
    }
  }
  return bounds.at(-2) ?? null;
}
