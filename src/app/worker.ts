import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Runner, run, type WorkerEvents, Logger as WorkerLogger } from 'graphile-worker';
import type { Logger } from 'pino';
import { notifySweep } from '../notifications/notify.js';
import { Autoscaler } from '../pipeline/autoscaler.js';
import { batchesAllowed } from '../pipeline/duty.js';
import { HeartbeatRegistry } from '../pipeline/heartbeat.js';
import { enqueueJobs, JOB_NAMES, type JobName, sweepJob } from '../pipeline/jobs.js';
import { parseWorkerPools } from '../pipeline/pools.js';
import { buildTaskList, type JobHandler } from '../pipeline/registry.js';
import { type ReportStage, runBatchStage, runInBatches, type SweepOptions } from '../pipeline/runner.js';
import { analyzeStage } from '../pipeline/stages/analyze/analyze.js';
import { dedupeStage } from '../pipeline/stages/dedupe/dedupe.js';
import { enrichStage } from '../pipeline/stages/enrich/enrich.js';
import { forwardSweep } from '../pipeline/stages/forward/forward.js';
import { validateStage } from '../pipeline/stages/validate/validate.js';
import type { Metrics } from '../platform/metrics/metrics.js';
import { payoutSweep } from '../rewards/payout-sweep.js';
import type { Deps } from './deps.js';

// Reports per sweep transaction: large enough to amortise the commit, small enough to hold locks briefly.
const SWEEP_BATCH = 100;
// A stage's batches that fail (the database away) begin again after this, doubling up to the most.
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 10_000;
// Batches that find another sweep on duty (another process's batches, a pool's last sweep) look again this often.
const OTHER_ON_DUTY_MS = 1000;

/** The automated stages before review: each a sweep over the reports waiting in its input state. */
function automatedStages(deps: Deps): Map<JobName, ReportStage> {
  const { reference, boundaries, config, blobs } = deps;
  return new Map<JobName, ReportStage>([
    ['validate', validateStage({ reference, boundaries, config })],
    ['dedupe', dedupeStage(config)],
    ['enrich', enrichStage({ reference, boundaries, config })],
    // The picture work runs at upload, so analyze claims as many as the others; only leftovers (evidence an upload
    // could not analyse) make a claim slow, and they are rare.
    ['analyze', analyzeStage({ blobs, config })],
  ]);
}

/**
 * What every sweep of a stage reports: reports set aside, and completions and service time as each batch commits
 * (a sweep on duty returns only when it goes off duty); service time is the batches' own — waiting for arrivals on
 * duty is not work.
 */
function sweepCounters(metrics: Metrics, name: JobName): SweepOptions {
  return {
    onSetAside: (n) => metrics.stageFailures.inc({ stage: name }, n),
    onBatch: (n, ms) => {
      metrics.stageBatches.inc({ stage: name });
      metrics.stageCompletions.inc({ stage: name }, n);
      for (let i = 0; i < n; i++) metrics.stageService.observe({ stage: name }, ms / 1000 / n);
    },
  };
}

/** Every pipeline handler, one per registered job: each stage is a sweep over the reports waiting for it. */
export function pipelineHandlers(deps: Deps): JobHandler[] {
  const { config, pool } = deps;
  return [
    ...[...automatedStages(deps)].map(([name, stage]) =>
      countedStage(deps.metrics, name, (signal) =>
        runBatchStage(pool, name, stage, SWEEP_BATCH, {
          ...sweepCounters(deps.metrics, name),
          linger: { idleMs: config.PIPELINE_LINGER_MS, wakeups: deps.wakeups, signal },
        }),
      ),
    ),
    // After review: the outside world (the registry, the citizen's phone and inbox, the payout provider).
    measured(deps.metrics, 'forward', () =>
      forwardSweep({ pool, registry: deps.govRegistry, logger: deps.logger }),
    ),
    measured(deps.metrics, 'notify', () => notifySweep(deps)),
    measured(deps.metrics, 'payout', () => payoutSweep(deps)),
  ];
}

/** A pipeline stage's sweep as a job, its failures counted (the sweep counts its batches and their service time). */
function countedStage(
  metrics: Metrics,
  name: JobName,
  sweep: (signal: AbortSignal | undefined) => Promise<number>,
): JobHandler {
  return {
    name,
    handle: async (_payload, helpers) => {
      await failuresCounted(metrics, name, () => sweep(helpers.abortSignal));
    },
  };
}

/** Runs a sweep, counting it as a failed sweep of the stage if it throws. */
async function failuresCounted<T>(metrics: Metrics, name: JobName, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    metrics.stageFailures.inc({ stage: name });
    throw err;
  }
}

/**
 * A sweep as a job, counted: items finished, failed sweeps, and worker time per item (the sweep's duration shared
 * over what it handled, observed once per item so the histogram weighs items, not sweeps).
 */
function measured(metrics: Metrics, name: JobName, sweep: () => Promise<number>): JobHandler {
  return {
    name,
    handle: async () => {
      const started = performance.now();
      const n = await failuresCounted(metrics, name, sweep);
      if (n === 0) return;
      metrics.stageCompletions.inc({ stage: name }, n);
      const each = (performance.now() - started) / 1000 / n;
      for (let i = 0; i < n; i++) metrics.stageService.observe({ stage: name }, each);
    },
  };
}

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
  const taskList = buildTaskList(pipelineHandlers(deps));
  const wanted = parseWorkerPools(deps.config.JARIMA_WORKERS);
  // Each running job holds a connection for its claim and may use another to prepare; each pool also keeps one for
  // LISTEN. Too small a pool would deadlock the workers on each other, so refuse to start instead.
  const needed = Object.values(wanted).reduce((sum, n) => sum + (n > 0 ? 2 * n + 1 : 0), 0);
  if (needed > deps.config.DB_POOL_MAX) {
    throw new Error(
      `DB_POOL_MAX=${deps.config.DB_POOL_MAX} is too small for JARIMA_WORKERS=${deps.config.JARIMA_WORKERS}: it needs at least ${needed}`,
    );
  }
  const logger = workerLogger(deps.logger);
  const pools = new Map<JobName, { size: number; runner: Runner }>();
  let stopped = false;
  const heartbeats = new HeartbeatRegistry(deps.pool, {
    deadAfterMs: deps.config.WORKER_DEAD_AFTER_SECONDS * 1000,
    log: deps.logger,
  });

  const stages = automatedStages(deps);
  const targets = parseWorkerPools(deps.config.AUTOSCALE_TARGET_AGE_SECONDS, 'AUTOSCALE_TARGET_AGE_SECONDS');
  const batches = new Map<JobName, { abort: AbortController; done: Promise<void> }>();
  /**
   * How long a report waits for its batch in `stage`, ms, or 0 where the stage does not run in batches (batches are
   * the autoscaler's: without it, a stage sized to 0 stops here).
   */
  const holdMs = (stage: JobName) =>
    batchesAllowed(deps.config, stage) && stages.has(stage)
      ? deps.config.AUTOSCALE_BATCH_HOLD_SHARE * (targets[stage] || 30) * 1000
      : 0;
  // Each batch worker holds up to two connections (its claim, its preparation); the four stages' batches together
  // leave the API a share as large as one stage's (DB_POOL_MAX 40: four workers a batch).
  const batchWorkers = Math.max(
    1,
    Math.min(
      deps.config.AUTOSCALE_MAX_WORKERS,
      Math.floor(deps.config.DB_POOL_MAX / (2 * (stages.size + 1))),
    ),
  );
  const startBatches = (stage: JobName) => {
    const abort = new AbortController();
    const hold = holdMs(stage);
    const done = (async () => {
      let retry = RETRY_FIRST_MS;
      while (!abort.signal.aborted) {
        try {
          const handled = await runInBatches(deps.pool, stage, stages.get(stage)!, SWEEP_BATCH, {
            ...sweepCounters(deps.metrics, stage),
            wakeups: deps.wakeups,
            holdMs: hold,
            signal: abort.signal,
            maxWorkers: batchWorkers,
            // Beside a pool that has just started, while the batches take their last claim.
            onWorkers: (n) => deps.metrics.setStageWorkers(stage, (pools.get(stage)?.size ?? 0) + n),
          });
          retry = RETRY_FIRST_MS;
          // Another sweep is on duty (a pool's last sweep finishing, or another process's batches): look again.
          if (handled === null)
            await sleep(Math.max(hold, OTHER_ON_DUTY_MS), undefined, { signal: abort.signal }).catch(
              () => {},
            );
        } catch (err) {
          // The database went away, say: what waits stays waiting; begin again once it answers.
          deps.metrics.stageFailures.inc({ stage });
          deps.logger.warn({ err, stage }, 'batches stopped with an error; starting again');
          await sleep(retry, undefined, { signal: abort.signal }).catch(() => {});
          retry = Math.min(2 * retry, RETRY_MAX_MS);
        }
      }
    })();
    batches.set(stage, { abort, done });
    deps.metrics.setStageWorkers(stage, 0);
    deps.metrics.stageBatching.set({ stage }, 1);
  };
  const stopBatches = async (stage: JobName) => {
    const b = batches.get(stage);
    if (!b) return;
    batches.delete(stage);
    b.abort.abort();
    await b.done;
    deps.metrics.stageBatching.set({ stage }, 0);
  };

  const startPool = async (stage: JobName, size: number) => {
    const events: WorkerEvents = new EventEmitter();
    events.on('worker:create', ({ worker }) => heartbeats.track(worker.workerId, stage));
    events.on('worker:release', ({ worker }) => heartbeats.untrack(worker.workerId));
    const runner = await run({
      pgPool: deps.pool,
      taskList: { [stage]: taskList[stage]! },
      concurrency: size,
      noHandleSignals: true,
      parsedCronItems: [],
      pollInterval: 2000,
      logger,
      events,
    });
    runner.promise.catch((err) => deps.logger.error({ err, stage }, 'pipeline pool stopped with an error'));
    pools.set(stage, { size, runner });
    deps.metrics.setStageWorkers(stage, size);
  };
  // With the autoscaler allowed to run stages in batches, they start that way (the cheap mode; the first decision
  // that sees a load of 4 workers or more gives a stage its pool), not with pools idle until the need is measured.
  const inBatches = (stage: JobName) => holdMs(stage) > 0;
  // Sweep once at start, for anything left waiting by a process that died before its sweep ran (batches look at
  // once when they begin).
  await enqueueJobs(
    deps.pool,
    JOB_NAMES.filter((name) => wanted[name] > 0 && !inBatches(name)).map((name) => sweepJob(name)),
  );
  for (const stage of JOB_NAMES) {
    if (wanted[stage] === 0) continue;
    if (inBatches(stage)) startBatches(stage);
    else await startPool(stage, wanted[stage]);
  }
  heartbeats.start();
  const stopPool = (p: { runner: Runner }) =>
    stopWithin(p.runner, deps.config.SHUTDOWN_TIMEOUT_SECONDS * 1000, deps.logger);

  const workers: Workers = {
    autoscaler: null,
    running: () => !stopped && pools.size + batches.size > 0,
    sizes: () =>
      Object.fromEntries(JOB_NAMES.map((n) => [n, pools.get(n)?.size ?? 0])) as Record<JobName, number>,
    batching: () => [...batches.keys()],
    async resize(stage, size) {
      if (stopped) throw new Error('workers are stopped');
      const old = pools.get(stage);
      const toBatches = size === 0 && holdMs(stage) > 0;
      if ((old?.size ?? 0) === size && batches.has(stage) === toBatches) return;
      pools.delete(stage);
      deps.metrics.setStageWorkers(stage, 0);
      if (size > 0) await startPool(stage, size);
      // Batches end after the pool has started (a burst is what ends them), with a last claim going off duty; a
      // sweep job then makes sure the pool looks at once.
      const wasBatching = batches.has(stage);
      await stopBatches(stage);
      deps.metrics.setStageWorkers(stage, size);
      if (old) await stopPool(old);
      if (toBatches) startBatches(stage);
      else if (size > 0 && wasBatching) await enqueueJobs(deps.pool, [sweepJob(stage)]);
      deps.logger.info(
        { stage, from: old?.size ?? 0, to: size, batches: toBatches },
        toBatches ? 'pipeline stage runs in batches' : 'resized pipeline pool',
      );
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await workers.autoscaler?.stop();
      await Promise.all([...batches.keys()].map(stopBatches));
      await Promise.all([...pools.values()].map(stopPool));
      for (const stage of pools.keys()) deps.metrics.setStageWorkers(stage, 0);
      pools.clear();
      await heartbeats.stop();
    },
  };
  if (deps.config.AUTOSCALE) {
    workers.autoscaler = new Autoscaler(deps, workers, { apiInProcess: opts.apiInProcess ?? true });
    workers.autoscaler.start();
  }
  return workers;
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
