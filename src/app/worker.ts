import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Runner, run, type TaskList, type WorkerEvents, Logger as WorkerLogger } from 'graphile-worker';
import type { Logger } from 'pino';
import { scheduleEvidenceCleanup } from '../evidence/cleanup.js';
import { Autoscaler } from '../pipeline/autoscaler.js';
import { batchesAllowed } from '../pipeline/duty.js';
import { HeartbeatRegistry } from '../pipeline/heartbeat.js';
import { enqueueJobs, JOB_NAMES, type JobName, sweepJob } from '../pipeline/jobs.js';
import { parseWorkerPools, workerPoolsThatFit } from '../pipeline/pools.js';
import { buildTaskList } from '../pipeline/registry.js';
import { type ReportStage, runInBatches } from '../pipeline/runner.js';
import { scheduleRetention } from '../privacy/retention.js';
import { scheduleNeedsInfoExpiry } from '../reports/follow-up.expiry.js';
import type { Deps } from './deps.js';
import { automatedStages, pipelineHandlers, SWEEP_BATCH, sweepCounters } from './pipeline-handlers.js';

// A stage's batches that fail (the database away) begin again after this, doubling up to the most.
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 10_000;
// Batches that find another sweep on duty (another process's batches, a pool's last sweep) look again this often.
const OTHER_ON_DUTY_MS = 1000;

export interface Workers {
  /** Sizing the pools from the queues (AUTOSCALE), or null when they keep their JARIMA_WORKERS sizes. */
  autoscaler: Autoscaler | null;
  running(): boolean;
  /** Current pool size per stage (0 for a stage running in batches). */
  sizes(): Record<JobName, number>;
  /**
   * Resizes one stage's pool while running; in-flight jobs of the old pool finish first. 0 stops the pool — and, for
   * an automated stage when AUTOSCALE_BATCH_HOLD_SHARE is set, runs the stage in batches instead (runInBatches).
   */
  resize(stage: JobName, size: number): Promise<void>;
  /** Stages running in batches in this process. */
  batching(): JobName[];
  /** Stops taking jobs and waits for the running ones to finish. */
  stop(): Promise<void>;
}

/**
 * One graphile-worker pool per stage, each with its own concurrency (JARIMA_WORKERS), so a slow stage (analyze)
 * cannot starve a fast one (validate) and each can be sized — and resized while running — on its own.
 */
export async function startWorkers(deps: Deps, opts: { apiInProcess?: boolean } = {}): Promise<Workers> {
  const workers = new StageWorkers(deps);
  await workers.start();
  if (deps.config.AUTOSCALE) workers.startAutoscaler(opts.apiInProcess ?? true);
  return workers;
}

interface StagePool {
  size: number;
  runner: Runner;
}

interface StageBatches {
  /** Aborting it ends the batches (a last claim going off duty). */
  abort: AbortController;
  /** Settles once they have ended. */
  done: Promise<void>;
}

/**
 * This process's pipeline workers: each stage JARIMA_WORKERS names runs either as a standing graphile-worker pool or,
 * when the autoscaler may do so (duty.ts `batchesAllowed`), in batches with no standing worker.
 */
class StageWorkers implements Workers {
  autoscaler: Autoscaler | null = null;
  /** Pool sizes JARIMA_WORKERS starts with; a stage at 0 runs in another process. */
  private readonly wanted: Record<JobName, number>;
  private readonly taskList: TaskList;
  /** The automated stages before review, the only ones that can run in batches. */
  private readonly stages: Map<JobName, ReportStage>;
  private readonly targetAges: Record<JobName, number>;
  /** Most workers one stage's batch may bring in. */
  private readonly batchWorkers: number;
  private readonly logger: WorkerLogger;
  private readonly heartbeats: HeartbeatRegistry;
  private readonly pools = new Map<JobName, StagePool>();
  private readonly batches = new Map<JobName, StageBatches>();
  private stopped = false;
  private cleanup: { stop(): Promise<void> } | null = null;
  private retention: { stop(): Promise<void> } | null = null;
  private expiry: { stop(): Promise<void> } | null = null;

  constructor(private readonly deps: Deps) {
    const { config } = deps;
    this.wanted = workerPoolsThatFit(config);
    this.taskList = buildTaskList(pipelineHandlers(deps));
    this.stages = automatedStages(deps);
    this.targetAges = parseWorkerPools(config.AUTOSCALE_TARGET_AGE_SECONDS, 'AUTOSCALE_TARGET_AGE_SECONDS');
    // Each batch worker holds up to two connections (its claim, its preparation); the four stages' batches together
    // leave the API a share as large as one stage's (DB_POOL_MAX 40: four workers a batch).
    this.batchWorkers = Math.max(
      1,
      Math.min(config.AUTOSCALE_MAX_WORKERS, Math.floor(config.DB_POOL_MAX / (2 * (this.stages.size + 1)))),
    );
    this.logger = workerLogger(deps.logger);
    this.heartbeats = new HeartbeatRegistry(deps.pool, {
      deadAfterMs: config.WORKER_DEAD_AFTER_SECONDS * 1000,
      log: deps.logger,
    });
  }

  /**
   * Starts every stage JARIMA_WORKERS names. With the autoscaler allowed to run stages in batches, they start that
   * way (the cheap mode; the first decision that sees a load of 4 workers or more gives a stage its pool), not with
   * pools idle until the need is measured.
   */
  async start(): Promise<void> {
    const mine = JOB_NAMES.filter((stage) => this.wanted[stage] > 0);
    // Sweep once at start, for anything left waiting by a process that died before its sweep ran (batches look at
    // once when they begin).
    await enqueueJobs(
      this.deps.pool,
      mine.filter((stage) => !this.inBatches(stage)).map((stage) => sweepJob(stage)),
    );
    for (const stage of mine) {
      if (this.inBatches(stage)) this.startBatches(stage);
      else await this.startPool(stage, this.wanted[stage]);
    }
    this.heartbeats.start();
    // Evidence no report refers to, and expired uploads: deleted where the pipeline runs, once an hour.
    this.cleanup = scheduleEvidenceCleanup(this.deps);
    // What docs/privacy.md keeps only so long: one process a day, whichever claims the run.
    this.retention = scheduleRetention(this.deps);
    // Questions to citizens left unanswered past NEEDS_INFO_EXPIRE_HOURS: the reports are closed with a reason.
    this.expiry = scheduleNeedsInfoExpiry(this.deps);
  }

  startAutoscaler(apiInProcess: boolean): void {
    this.autoscaler = new Autoscaler(this.deps, this, { apiInProcess });
    this.autoscaler.start();
  }

  running(): boolean {
    return !this.stopped && this.pools.size + this.batches.size > 0;
  }

  sizes(): Record<JobName, number> {
    return Object.fromEntries(JOB_NAMES.map((n) => [n, this.pools.get(n)?.size ?? 0])) as Record<
      JobName,
      number
    >;
  }

  batching(): JobName[] {
    return [...this.batches.keys()];
  }

  async resize(stage: JobName, size: number): Promise<void> {
    if (this.stopped) throw new Error('workers are stopped');
    const old = this.pools.get(stage);
    const toBatches = size === 0 && this.inBatches(stage);
    if ((old?.size ?? 0) === size && this.batches.has(stage) === toBatches) return;
    this.pools.delete(stage);
    this.deps.metrics.setStageWorkers(stage, 0);
    if (size > 0) await this.startPool(stage, size);
    // Batches end after the pool has started (a burst is what ends them), with a last claim going off duty; a
    // sweep job then makes sure the pool looks at once.
    const wasBatching = this.batches.has(stage);
    await this.stopBatches(stage);
    this.deps.metrics.setStageWorkers(stage, size);
    if (old) await this.stopPool(old);
    if (toBatches) this.startBatches(stage);
    else if (size > 0 && wasBatching) await enqueueJobs(this.deps.pool, [sweepJob(stage)]);
    this.deps.logger.info(
      { stage, from: old?.size ?? 0, to: size, batches: toBatches },
      toBatches ? 'pipeline stage runs in batches' : 'resized pipeline pool',
    );
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.autoscaler?.stop();
    await Promise.all([...this.batches.keys()].map((stage) => this.stopBatches(stage)));
    await Promise.all([...this.pools.values()].map((p) => this.stopPool(p)));
    for (const stage of this.pools.keys()) this.deps.metrics.setStageWorkers(stage, 0);
    this.pools.clear();
    await this.heartbeats.stop();
    await this.cleanup?.stop();
    await this.retention?.stop();
    await this.expiry?.stop();
  }

  /**
   * How long a report waits for its batch in `stage`, ms, or 0 where the stage does not run in batches (batches are
   * the autoscaler's: without it, a stage sized to 0 stops here).
   */
  private holdMs(stage: JobName): number {
    return batchesAllowed(this.deps.config, stage) && this.stages.has(stage)
      ? this.deps.config.AUTOSCALE_BATCH_HOLD_SHARE * (this.targetAges[stage] || 30) * 1000
      : 0;
  }

  private inBatches(stage: JobName): boolean {
    return this.holdMs(stage) > 0;
  }

  private async startPool(stage: JobName, size: number): Promise<void> {
    const events: WorkerEvents = new EventEmitter();
    events.on('worker:create', ({ worker }) => this.heartbeats.track(worker.workerId, stage));
    events.on('worker:release', ({ worker }) => this.heartbeats.untrack(worker.workerId));
    const runner = await run({
      pgPool: this.deps.pool,
      taskList: { [stage]: this.taskList[stage]! },
      concurrency: size,
      noHandleSignals: true,
      parsedCronItems: [],
      pollInterval: 2000,
      logger: this.logger,
      events,
    });
    runner.promise.catch((err) =>
      this.deps.logger.error({ err, stage }, 'pipeline pool stopped with an error'),
    );
    this.pools.set(stage, { size, runner });
    this.deps.metrics.setStageWorkers(stage, size);
  }

  private stopPool(p: StagePool): Promise<void> {
    return stopWithin(p.runner, this.deps.config.SHUTDOWN_TIMEOUT_SECONDS * 1000, this.deps.logger);
  }

  private startBatches(stage: JobName): void {
    const abort = new AbortController();
    this.batches.set(stage, { abort, done: this.batchesUntil(stage, abort.signal) });
    this.deps.metrics.setStageWorkers(stage, 0);
    this.deps.metrics.stageBatching.set({ stage }, 1);
  }

  /**
   * Runs the stage's batches until `signal` aborts, beginning them again whenever they end: after an error (the
   * database away) with a doubling pause, and after finding another sweep on duty with a look now and then.
   */
  private async batchesUntil(stage: JobName, signal: AbortSignal): Promise<void> {
    const { deps } = this;
    const hold = this.holdMs(stage);
    const pause = (ms: number) => sleep(ms, undefined, { signal }).catch(() => {});
    let retry = RETRY_FIRST_MS;
    while (!signal.aborted) {
      try {
        const handled = await runInBatches(deps.pool, stage, this.stages.get(stage)!, SWEEP_BATCH, {
          ...sweepCounters(deps.metrics, stage),
          wakeups: deps.wakeups,
          holdMs: hold,
          signal,
          maxWorkers: this.batchWorkers,
          // Beside a pool that has just started, while the batches take their last claim.
          onWorkers: (n) => deps.metrics.setStageWorkers(stage, (this.pools.get(stage)?.size ?? 0) + n),
        });
        retry = RETRY_FIRST_MS;
        // Another sweep is on duty (a pool's last sweep finishing, or another process's batches): look again.
        if (handled === null) await pause(Math.max(hold, OTHER_ON_DUTY_MS));
      } catch (err) {
        // The database went away, say: what waits stays waiting; begin again once it answers.
        deps.metrics.stageFailures.inc({ stage });
        deps.logger.warn({ err, stage }, 'batches stopped with an error; starting again');
        await pause(retry);
        retry = Math.min(2 * retry, RETRY_MAX_MS);
      }
    }
  }

  private async stopBatches(stage: JobName): Promise<void> {
    const b = this.batches.get(stage);
    if (!b) return;
    this.batches.delete(stage);
    b.abort.abort();
    await b.done;
    this.deps.metrics.stageBatching.set({ stage }, 0);
  }
}

/**
 * Graceful stop: running jobs may finish; after `ms` the rest are failed back to the queue (they run again later,
 * elsewhere — handlers are idempotent) so shutdown never hangs.
 */
async function stopWithin(runner: Runner, ms: number, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms);
  });
  const outcome = await Promise.race([runner.stop().then(() => 'done' as const), late]);
  clearTimeout(timer);
  if (outcome === 'late') {
    log.warn({ ms }, 'jobs still running at the shutdown timeout: failing them back to the queue');
    await runner.kill('shutdown timeout').catch(() => {});
  }
}

function workerLogger(log: Logger): WorkerLogger {
  return new WorkerLogger((scope) => (level, message, meta) => {
    const child = {
      scope: { label: scope.label, taskIdentifier: scope.taskIdentifier, jobId: scope.jobId },
      ...meta,
    };
    if (level === 'error') log.error(child, message);
    else if (level === 'warning') log.warn(child, message);
    // graphile-worker reports every job at info; that is per-job detail, so it goes to debug here.
    else log.debug(child, message);
  });
}
