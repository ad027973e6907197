import os from 'node:os';
import type { Logger } from 'pino';
import { fitToCap, Hysteresis, type StagePolicy, workersNeeded } from '../platform/autoscale/control-law.js';
import type { Config } from '../platform/config/config.js';
import type { Pool } from '../platform/db/pool.js';
import type { Metrics } from '../platform/metrics/metrics.js';
import { batchesAllowed } from './duty.js';
import { processesPerStage } from './heartbeat.js';
import type { JobName } from './jobs.js';
import { parseWorkerPools } from './pools.js';
import { type QueueSample, type StageArrivals, sampleQueues } from './queues.js';

/** Worker time per item assumed for a stage before this installation has measured it (bench/README.md order). */
const PRIOR_SERVICE_SECONDS = 0.02;
// Connections kept for the HTTP API when it shares the process (and pool) with the workers.
const API_CONNECTIONS = 10;
// Workers per core: the stages mostly wait on PostgreSQL and the network, so more workers than cores pay.
const WORKERS_PER_CORE = 8;
/**
 * With AUTOSCALE_BATCH_HOLD_SHARE set, a stage needing less than this many workers runs in batches, whose workers
 * exist only while a batch runs (a burst's full claims bring in more). Above it a standing pool of ⌈need/ρ⌉ wastes
 * less than ~15 % to rounding; below it, up to half (a need of 1.06 takes two workers) or, under one worker, almost
 * all (at 20 reports/s a stage needs 0.1–0.15 of one; bench/README.md).
 */
const BATCH_BELOW_WORKERS = 4;

/** The settings the autoscaler reads. */
export type AutoscalerConfig = Pick<
  Config,
  | 'AUTOSCALE'
  | 'AUTOSCALE_BATCH_HOLD_SHARE'
  | 'AUTOSCALE_DOWN_AFTER'
  | 'AUTOSCALE_INTERVAL_SECONDS'
  | 'AUTOSCALE_MAX_WORKERS'
  | 'AUTOSCALE_TARGET_AGE_SECONDS'
  | 'AUTOSCALE_UTILISATION'
  | 'DB_POOL_MAX'
  | 'JARIMA_WORKERS'
  | 'WORKER_DEAD_AFTER_SECONDS'
>;

export interface Resizable {
  sizes(): Record<JobName, number>;
  resize(stage: JobName, size: number): Promise<void>;
}

export interface Decision {
  stage: JobName;
  at: string;
  current: number;
  desired: number;
  inputs: {
    arrivalRate: number;
    forecastRate: number | null;
    serviceSeconds: number;
    depth: number;
    oldestAgeSeconds: number;
    processes: number;
    flow: number;
    backlog: number;
  };
}

/**
 * Sizes this process's pipeline pools from what the queues need (src/platform/autoscale/control-law.ts), every
 * AUTOSCALE_INTERVAL_SECONDS. Manages the stages JARIMA_WORKERS starts in this process (a stage at 0 belongs to
 * another process); never below 1 for those (0 — batches — below 4 workers' load when AUTOSCALE_BATCH_HOLD_SHARE
 * is set), never above AUTOSCALE_MAX_WORKERS, and all together within what the connection pool and the CPU can carry. Every decision is logged with its inputs and exposed as a metric.
 */
export class Autoscaler {
  private readonly managed: JobName[];
  private readonly policies: Record<string, StagePolicy>;
  private readonly hysteresis: Hysteresis;
  private readonly cap: number;
  private last: {
    at: number;
    arrivals: Map<JobName, number>;
    sum: Map<JobName, number>;
    count: Map<JobName, number>;
  } | null = null;
  private readonly service = new Map<JobName, number>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  readonly decisions: Decision[] = [];

  constructor(
    private readonly deps: {
      pool: Pool;
      config: AutoscalerConfig;
      metrics: Metrics;
      arrivals: StageArrivals;
      logger: Logger;
      /** What the demand forecast says a stage should be ready for (items per second), if it has a model. */
      forecaster?: { rate(stage: JobName, now?: number): number | null };
    },
    private readonly workers: Resizable,
    opts: { apiInProcess: boolean },
  ) {
    const c = deps.config;
    const initial = parseWorkerPools(c.JARIMA_WORKERS);
    this.managed = (Object.keys(initial) as JobName[]).filter((s) => initial[s] > 0);
    const targets = parseWorkerPools(c.AUTOSCALE_TARGET_AGE_SECONDS, 'AUTOSCALE_TARGET_AGE_SECONDS');
    this.policies = Object.fromEntries(
      this.managed.map((s) => [
        s,
        {
          min: 1,
          max: c.AUTOSCALE_MAX_WORKERS,
          targetAgeSeconds: targets[s] || 30,
          utilisation: c.AUTOSCALE_UTILISATION,
          // A stage that can run in batches (duty.ts) does so below BATCH_BELOW_WORKERS, unless the operator set
          // AUTOSCALE_BATCH_HOLD_SHARE to 0 (the workers run batches only for the autoscaler: AUTOSCALE).
          batchBelow: batchesAllowed(c, s) ? BATCH_BELOW_WORKERS : 0,
        },
      ]),
    );
    this.hysteresis = new Hysteresis(c.AUTOSCALE_DOWN_AFTER);
    // Each worker can hold two connections (its claim and its preparation) and each pool one for LISTEN.
    const byConnections = Math.floor(
      (c.DB_POOL_MAX - (opts.apiInProcess ? API_CONNECTIONS : 0) - this.managed.length) / 2,
    );
    this.cap = Math.max(
      this.managed.length,
      Math.min(byConnections, os.availableParallelism() * WORKERS_PER_CORE),
    );
  }

  start(): void {
    const every = this.deps.config.AUTOSCALE_INTERVAL_SECONDS * 1000;
    this.timer = setInterval(() => {
      this.running = this.tick().then(
        () => {},
        (err: unknown) => this.deps.logger.warn({ err }, 'autoscaler tick failed'),
      );
    }, every);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One decision round: measure, decide, resize. Returns the decisions that changed a pool. */
  async tick(now = Date.now()): Promise<Decision[]> {
    const [queues, processes, service] = await Promise.all([
      sampleQueues(this.deps.pool),
      processesPerStage(this.deps.pool, this.deps.config.WORKER_DEAD_AFTER_SECONDS * 1000),
      this.serviceTotals(),
    ]);
    const arrivals = new Map(this.managed.map((s) => [s, this.deps.arrivals.total(s)]));
    const prev = this.last;
    this.last = { at: now, arrivals, sum: service.sum, count: service.count };
    if (!prev) return []; // rates need two readings
    const seconds = Math.max(0.001, (now - prev.at) / 1000);
    const sizes = this.workers.sizes();
    const wanted: Record<string, number> = {};
    const inputs = new Map<JobName, Decision['inputs']>();
    for (const stage of this.managed) {
      const q: QueueSample = queues[stage] ?? { depth: 0, oldestAgeSeconds: 0 };
      const doneHere = (service.count.get(stage) ?? 0) - (prev.count.get(stage) ?? 0);
      if (doneHere > 0) {
        const measured = ((service.sum.get(stage) ?? 0) - (prev.sum.get(stage) ?? 0)) / doneHere;
        // A moving average, so one slow sweep does not double the pool.
        const old = this.service.get(stage);
        this.service.set(stage, old === undefined ? measured : 0.7 * old + 0.3 * measured);
      }
      const signals = {
        arrivalRate: ((arrivals.get(stage) ?? 0) - (prev.arrivals.get(stage) ?? 0)) / seconds,
        forecastRate: this.deps.forecaster?.rate(stage, now) ?? null,
        serviceSeconds: this.service.get(stage) ?? PRIOR_SERVICE_SECONDS,
        depth: q.depth,
        oldestAgeSeconds: q.oldestAgeSeconds,
        processes: Math.max(1, processes[stage] ?? 1),
      };
      const need = workersNeeded(signals, this.policies[stage]!);
      wanted[stage] = need.workers;
      inputs.set(stage, { ...signals, flow: need.flow, backlog: need.backlog });
    }
    // A stage in batches wants 0, below its usual minimum: that is its floor then.
    const mins = Object.fromEntries(
      this.managed.map((s) => [s, Math.min(this.policies[s]!.min, wanted[s]!)]),
    );
    const fitted = fitToCap(wanted, mins, this.cap);
    const changed: Decision[] = [];
    for (const stage of this.managed) {
      const current = sizes[stage];
      const desired = this.hysteresis.next(stage, current, fitted[stage]!);
      this.deps.metrics.stageDesiredWorkers.set({ stage }, desired);
      const decision: Decision = {
        stage,
        at: new Date(now).toISOString(),
        current,
        desired,
        inputs: inputs.get(stage)!,
      };
      this.decisions.push(decision);
      if (this.decisions.length > 500) this.decisions.shift();
      if (desired !== current) {
        this.deps.logger.info(
          { autoscaler: decision },
          `autoscaler: ${stage} ${current} → ${desired} workers`,
        );
        await this.workers.resize(stage, desired);
        changed.push(decision);
      } else {
        this.deps.logger.debug({ autoscaler: decision }, `autoscaler: ${stage} stays at ${current}`);
      }
    }
    return changed;
  }

  /** Cumulative worker seconds and items per stage, from this process's service-time histogram. */
  private async serviceTotals(): Promise<{ sum: Map<JobName, number>; count: Map<JobName, number> }> {
    const sum = new Map<JobName, number>();
    const count = new Map<JobName, number>();
    for (const v of (await this.deps.metrics.stageService.get()).values) {
      const stage = v.labels.stage as JobName;
      if (v.metricName?.endsWith('_sum')) sum.set(stage, v.value);
      if (v.metricName?.endsWith('_count')) count.set(stage, v.value);
    }
    return { sum, count };
  }
}
