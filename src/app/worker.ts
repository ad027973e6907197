import { type Runner, run, Logger as WorkerLogger } from 'graphile-worker';
import type { Logger } from 'pino';
import { enqueueJobs, JOB_NAMES, sweepJob } from '../pipeline/jobs.js';
import { buildTaskList, type JobHandler } from '../pipeline/registry.js';
import { type ReportStage, runBatchStage } from '../pipeline/runner.js';
import { analyzeStage } from '../pipeline/stages/analyze/analyze.js';
import { dedupeStage } from '../pipeline/stages/dedupe/dedupe.js';
import { enrichStage } from '../pipeline/stages/enrich/enrich.js';
import { validateStage } from '../pipeline/stages/validate/validate.js';
import type { Deps } from './deps.js';

// Reports per sweep transaction: large enough to amortise the commit, small enough to hold locks briefly.
const SWEEP_BATCH = 100;

/** Every pipeline handler, one per registered job: each stage is a sweep over the reports waiting for it. */
export function pipelineHandlers(deps: Deps): JobHandler[] {
  const { reference, boundaries, config, blobs, pool } = deps;
  const stages: [JobHandler['name'], ReportStage, number][] = [
    ['validate', validateStage({ reference, boundaries, config }), SWEEP_BATCH],
    ['dedupe', dedupeStage(config), SWEEP_BATCH],
    ['enrich', enrichStage({ reference, boundaries, config }), SWEEP_BATCH],
    // Media analysis is slow per report: smaller claims keep each transaction and look-ahead short.
    ['analyze', analyzeStage({ blobs, config }), 10],
  ];
  return stages.map(([name, stage, batch]) => ({
    name,
    handle: async () => {
      await runBatchStage(pool, name, stage, batch);
    },
  }));
}

export interface Workers {
  running(): boolean;
  /** Stops taking jobs and waits for the running ones to finish. */
  stop(): Promise<void>;
}

export async function startWorkers(deps: Deps): Promise<Workers> {
  const taskList = buildTaskList(pipelineHandlers(deps));
  // Sweep once at start, for anything left waiting by a process that died before its sweep ran.
  await enqueueJobs(
    deps.pool,
    JOB_NAMES.map((name) => sweepJob(name)),
  );
  const runner: Runner = await run({
    pgPool: deps.pool,
    taskList,
    concurrency: deps.config.WORKER_CONCURRENCY,
    noHandleSignals: true,
    parsedCronItems: [],
    pollInterval: 2000,
    logger: workerLogger(deps.logger),
  });
  let alive = true;
  runner.promise.then(
    () => {
      alive = false;
    },
    (err) => {
      alive = false;
      deps.logger.error({ err }, 'pipeline workers stopped with an error');
    },
  );
  return {
    running: () => alive,
    stop: async () => {
      if (!alive) return;
      await runner.stop();
      alive = false;
    },
  };
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
