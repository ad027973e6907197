import type { Pool } from '../../platform/db/pool.js';
import type { JobName } from '../jobs.js';
import { drain, type ReportStage, recheckSoon, type StepCounters } from './step.js';

/**
 * A plain sweep of a stage: claims, decides and applies its waiting reports in batches (step.ts) until none is
 * left, and returns. Parallel sweeps share the work; one killed midway loses nothing, and its job runs again.
 */
export async function sweep(
  pool: Pool,
  stageName: JobName,
  stage: ReportStage,
  batchSize: number,
  counters: StepCounters = {},
): Promise<number> {
  const done = await drain(pool, stageName, stage, batchSize, counters);
  await recheckSoon(pool, stageName, stage);
  return done;
}
