import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { MetricsRegistry } from './alerts/samples.js';

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
