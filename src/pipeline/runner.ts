/**
 * How a stage's reports are claimed and applied, in three modes that share one claim/decide/apply step
 * (runner/step.ts): a plain sweep that drains the stage and returns (runner/sweep.ts), a sweep that then stays on
 * duty for arrivals (runner/linger.ts, duty.ts), and the autoscaler's batches with no standing worker
 * (runner/batches.ts).
 */
import type { Pool } from '../platform/db/pool.js';
import { dutySlot } from './duty.js';
import type { JobName } from './jobs.js';
import { type LingerOptions, lingerOnDuty } from './runner/linger.js';
import type { ReportStage, StepCounters } from './runner/step.js';
import { sweep } from './runner/sweep.js';

export { type BatchOptions, runInBatches } from './runner/batches.js';
export type { LingerOptions } from './runner/linger.js';
export type { Decision, ReportStage, StepCounters } from './runner/step.js';

export interface SweepOptions extends StepCounters {
  /**
   * Stay on duty this long after the queue empties (see duty.ts): claim arrivals as they come, woken by `wakeups`,
   * while hand-offs to this stage enqueue no jobs. Ends early when `signal` aborts (shutdown, a pool resized).
   */
  linger?: LingerOptions;
}

/**
 * Sweeps a stage until none of its reports is left waiting — then, with `linger` (and a stage that has duty locks),
 * stays on duty for more. Returns how many reports it handled.
 */
export async function runBatchStage(
  pool: Pool,
  stageName: JobName,
  stage: ReportStage,
  batchSize: number,
  opts: SweepOptions = {},
): Promise<number> {
  const { linger, ...counters } = opts;
  if (linger && linger.idleMs > 0 && dutySlot(stageName) >= 0) {
    return lingerOnDuty(pool, stageName, stage, batchSize, counters, linger);
  }
  return sweep(pool, stageName, stage, batchSize, counters);
}
