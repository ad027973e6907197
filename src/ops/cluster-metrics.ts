import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { MetricsRegistry } from './alerts/samples.js';
import type { OpsPoint } from './overview.schema.js';

type MetricsJson = Awaited<ReturnType<MetricsRegistry['getMetricsAsJSON']>>;

/** This process among the cluster's: its host, pid and a random part (a restarted process is another one). */
export const PROCESS_ID = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

/** A process whose snapshot is older than this is gone (stopped, killed, or cut off from Redis). */
const STALE_AFTER_INTERVALS = 3;

/**
 * Every process's metrics in one place, so the alert rules judge the cluster, not the process that evaluates them:
 * each process writes its registry (prom-client's JSON) into a Redis hash every interval, and the evaluator reads
 * them all, each series labelled with `instance` = the process, as Prometheus would scrape them. A process gone
 * for three intervals drops out.
 */
export class ClusterMetrics {
  private timer: NodeJS.Timeout | null = null;
  private publishing: Promise<void> | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly local: MetricsRegistry,
    private readonly intervalMs: number,
    private readonly processId = PROCESS_ID,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  private get key(): string {
    return `${this.prefix}ops:metrics`;
  }

  /** Writes this process's snapshot now, then every interval until stop(). */
  start(): void {
    const tick = () => {
      this.publishing ??= this.publish()
        .catch(this.onError)
        .finally(() => {
          this.publishing = null;
        });
    };
    tick();
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.publishing;
    // A process that stops cleanly leaves at once, not after three intervals.
    await this.redis.hdel(this.key, this.processId).catch(() => {});
  }

  async publish(now = Date.now()): Promise<void> {
    const metrics = await this.local.getMetricsAsJSON();
    await this.redis.hset(this.key, this.processId, JSON.stringify({ at: now, metrics }));
  }

  /** The cluster's metrics as one registry: every live process's series, with its `instance` label. */
  registry(): MetricsRegistry {
    return {
      getMetricsAsJSON: async () => {
        // Redis away: this process judges its own metrics rather than none (every API process then does).
        const all = await this.redis.hgetall(this.key).catch(() => null);
        if (!all) return this.local.getMetricsAsJSON();
        const now = Date.now();
        const merged = new Map<string, MetricsJson[number]>();
        const stale: string[] = [];
        for (const [instance, raw] of Object.entries(all)) {
          let snapshot: { at: number; metrics: MetricsJson };
          try {
            snapshot = JSON.parse(raw);
          } catch {
            stale.push(instance);
            continue;
          }
          if (now - snapshot.at > STALE_AFTER_INTERVALS * this.intervalMs) {
            stale.push(instance);
            continue;
          }
          for (const metric of snapshot.metrics) {
            const into = merged.get(metric.name) ?? { ...metric, values: [] };
            merged.set(metric.name, into);
            for (const v of metric.values) into.values.push({ ...v, labels: { ...v.labels, instance } });
          }
        }
        if (stale.length) await this.redis.hdel(this.key, ...stale).catch(() => {});
        return [...merged.values()];
      },
    } as MetricsRegistry;
  }
}

/**
 * Which process evaluates the alert rules: the holder of a Redis lease (SET NX PX, renewed at every evaluation).
 * When it dies the lease lapses and another process takes it at its next tick, so the rules are judged once per
 * interval by exactly one process, whichever API processes are up.
 */
export class EvaluatorLease {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs: number,
    private readonly processId = PROCESS_ID,
  ) {}

  private get key(): string {
    return `${this.prefix}ops:alert-evaluator`;
  }

  /**
   * Whether this process is the evaluator now (taking or renewing the lease). Redis away: yes — each process judges
   * its own metrics until Redis is back (notices may come from several; blind alerts would be worse).
   */
  async held(): Promise<boolean> {
    try {
      const renewed = await this.redis.eval(
        `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
         if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
         return 0`,
        1,
        this.key,
        this.processId,
        String(this.ttlMs),
      );
      return renewed === 1;
    } catch {
      return true;
    }
  }

  /** Gives the lease up (a clean stop), so another process takes over at its next tick. */
  async release(): Promise<void> {
    await this.redis
      .eval(
        `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`,
        1,
        this.key,
        this.processId,
      )
      .catch(() => {});
  }
}

/** One process's minute, as the cluster series keeps it. */
interface ProcessPoint {
  process: string;
  point: OpsPoint;
}

/**
 * The operator overview's per-minute series for the whole cluster: each process pushes every minute it closes to a
 * Redis list of its own (the last hour, expiring when the process is gone), and the overview merges the processes'
 * minutes.
 */
export class ClusterSeries {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly processId = PROCESS_ID,
  ) {}

  private key(process: string): string {
    return `${this.prefix}ops:points:${process}`;
  }

  private get index(): string {
    return `${this.prefix}ops:points-processes`;
  }

  async push(point: OpsPoint): Promise<void> {
    await this.redis
      .multi()
      .rpush(this.key(this.processId), JSON.stringify(point))
      .ltrim(this.key(this.processId), -MINUTES, -1)
      .pexpire(this.key(this.processId), 2 * 3_600_000)
      .zadd(this.index, Date.now(), this.processId)
      .exec();
  }

  /** The last hour per minute, every process's minutes merged (mergePoints); oldest first. */
  async series(now = Date.now()): Promise<OpsPoint[]> {
    await this.redis.zremrangebyscore(this.index, 0, now - 3_600_000);
    const processes = await this.redis.zrange(this.index, 0, -1);
    const lists = await Promise.all(processes.map((p) => this.redis.lrange(this.key(p), 0, -1)));
    const byMinute = new Map<number, ProcessPoint[]>();
    processes.forEach((process, i) => {
      for (const raw of lists[i] ?? []) {
        const point = JSON.parse(raw) as OpsPoint;
        const minute = Math.floor(Date.parse(point.at) / 60_000);
        const list = byMinute.get(minute) ?? [];
        list.push({ process, point });
        byMinute.set(minute, list);
      }
    });
    return [...byMinute.entries()].sort(([a], [b]) => a - b).map(([, points]) => mergePoints(points));
  }
}

const MINUTES = 60;

/**
 * Several processes' points of one minute as one: what each process counts alone is summed (HTTP requests and
 * errors, workers, stage completions, memory); what each reads from the database is the same everywhere and taken
 * once (submissions, queue depth and age); latency percentiles and event-loop lag cannot be combined exactly and
 * are the worst process's; cache hit rates are the processes' mean; CPU is the machine's, counted once per host.
 */
export function mergePoints(points: ProcessPoint[]): OpsPoint {
  const all = points.map((p) => p.point);
  const first = all[0]!;
  const max = (f: (p: OpsPoint) => number | null) =>
    all.reduce<number | null>((m, p) => {
      const v = f(p);
      return v === null ? m : m === null ? v : Math.max(m, v);
    }, null);
  const sum = (f: (p: OpsPoint) => number) => all.reduce((s, p) => s + f(p), 0);
  const stages: OpsPoint['stages'] = {};
  for (const stage of new Set(all.flatMap((p) => Object.keys(p.stages)))) {
    const of = all.map((p) => p.stages[stage]).filter((s) => s !== undefined);
    stages[stage] = {
      depth: Math.max(...of.map((s) => s.depth)),
      oldestAgeSeconds: Math.max(...of.map((s) => s.oldestAgeSeconds)),
      workers: of.reduce((n, s) => n + s.workers, 0),
      desiredWorkers: of.reduce((n, s) => n + s.desiredWorkers, 0),
      batching: of.some((s) => s.batching),
      completed: of.reduce((n, s) => n + s.completed, 0),
    };
  }
  const cacheHitRate: OpsPoint['cacheHitRate'] = {};
  for (const ns of new Set(all.flatMap((p) => Object.keys(p.cacheHitRate)))) {
    const rates = all.map((p) => p.cacheHitRate[ns]).filter((r): r is number => typeof r === 'number');
    cacheHitRate[ns] = rates.length ? rates.reduce((a, b) => a + b, 0) / rates.length : null;
  }
  const breakers: OpsPoint['breakers'] = {};
  for (const name of new Set(all.flatMap((p) => Object.keys(p.breakers))))
    breakers[name] = Math.max(...all.map((p) => p.breakers[name] ?? 0));
  const cpuByHost = new Map<string, number>();
  for (const { process, point } of points) {
    const host = process.split(':')[0]!;
    cpuByHost.set(host, Math.max(cpuByHost.get(host) ?? 0, point.cpuSeconds));
  }
  return {
    // The earliest process's moment: the order processes come back in is the order they last wrote.
    at: all.reduce((at, p) => (p.at < at ? p.at : at), first.at),
    submissions: max((p) => p.submissions) ?? 0,
    http: {
      requests: sum((p) => p.http.requests),
      errors: sum((p) => p.http.errors),
      p50Ms: max((p) => p.http.p50Ms),
      p95Ms: max((p) => p.http.p95Ms),
      p99Ms: max((p) => p.http.p99Ms),
    },
    stages,
    cacheHitRate,
    breakers,
    eventLoopLagP99Ms: max((p) => p.eventLoopLagP99Ms) ?? 0,
    cpuSeconds: Math.round([...cpuByHost.values()].reduce((a, b) => a + b, 0) * 1000) / 1000,
    rssBytes: sum((p) => p.rssBytes),
  };
}
