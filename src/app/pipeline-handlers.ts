import { appealDecisionSweep } from '../appeals/appeal-sweep.js';
import { notifySweep } from '../notifications/notify.js';
import type { JobName } from '../pipeline/jobs.js';
import type { JobHandler } from '../pipeline/registry.js';
import { type ReportStage, runBatchStage, type SweepOptions } from '../pipeline/runner.js';
import { analyzeStage } from '../pipeline/stages/analyze/analyze.js';
import { dedupeStage } from '../pipeline/stages/dedupe/dedupe.js';
import { enrichStage } from '../pipeline/stages/enrich/enrich.js';
import { forwardSweep } from '../pipeline/stages/forward/forward.js';
import { validateStage } from '../pipeline/stages/validate/validate.js';
import type { Metrics } from '../platform/metrics/metrics.js';
import { payoutSweep } from '../rewards/payout-sweep.js';
import type { Deps } from './deps.js';

// Reports per sweep transaction: large enough to amortise the commit, small enough to hold locks briefly.
export const SWEEP_BATCH = 100;

/** The automated stages before review: each a sweep over the reports waiting in its input state. */
export function automatedStages(deps: Deps): Map<JobName, ReportStage> {
  const { reference, boundaries, config, blobs, media } = deps;
  return new Map<JobName, ReportStage>([
    ['validate', validateStage({ reference, boundaries, config })],
    ['dedupe', dedupeStage(config)],
    ['enrich', enrichStage({ reference, boundaries, config })],
    // A photo's picture work runs at upload, so analyze claims as many as the others; only leftovers (a video's
    // poster frame, a photo an upload could not analyse) make a claim slow.
    ['analyze', analyzeStage({ blobs, media, config })],
  ]);
}

/**
 * What every sweep of a stage reports: reports set aside, and completions and service time as each batch commits
 * (a sweep on duty returns only when it goes off duty); service time is the batches' own — waiting for arrivals on
 * duty is not work.
 */
export function sweepCounters(metrics: Metrics, name: JobName): SweepOptions {
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
    // The registry's stage also delivers appeal decisions to it: whatever runs forwarding runs those.
    measured(deps.metrics, 'forward', async () => {
      const forwarded = await forwardSweep({ pool, registry: deps.govRegistry, logger: deps.logger });
      const decided = await appealDecisionSweep({ ...deps, registry: deps.govRegistry });
      return forwarded + decided;
    }),
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
