import { type Static, Type as T, type TSchema } from '@sinclair/typebox';
import type { Queryable } from '../platform/db/pool.js';

/** A sweep: claim every report waiting in the stage's input state, in batches, until none is left. */
const SweepJob = T.Object({}, { additionalProperties: false });

/**
 * The one registry of pipeline jobs: task name → payload schema. Payload types derive from it; the worker checks
 * at start-up that every name has exactly one handler.
 */
export const JOB_SCHEMAS = {
  validate: SweepJob,
  dedupe: SweepJob,
  enrich: SweepJob,
  analyze: SweepJob,
  forward: SweepJob,
  notify: SweepJob,
  payout: SweepJob,
} as const satisfies Record<string, TSchema>;

export type JobName = keyof typeof JOB_SCHEMAS;
export type JobPayload<N extends JobName> = Static<(typeof JOB_SCHEMAS)[N]>;
export const JOB_NAMES = Object.keys(JOB_SCHEMAS) as JobName[];

export interface JobSpec<N extends JobName = JobName> {
  name: N;
  payload: JobPayload<N>;
  /** Deduplicates: a second job with the same key replaces the pending one instead of adding another. */
  jobKey?: string;
  runAt?: Date;
  maxAttempts?: number;
  priority?: number;
}

/**
 * A sweep job for a stage. It carries no job key on purpose: a key is a row that every enqueuing transaction
 * must lock, which serialised concurrent intake commits (bench/README.md). A sweep that finds nothing waiting
 * costs one indexed query, so surplus sweeps are cheap.
 */
export function sweepJob<N extends JobName>(name: N): JobSpec<N> {
  return { name, payload: {} as JobPayload<N> };
}

/**
 * Enqueues jobs inside the caller's transaction with one call to graphile-worker's `add_jobs` (one NOTIFY for the
 * whole batch — a NOTIFY per job serialises commits; see bench/README.md).
 */
export async function enqueueJobs(trx: Queryable, specs: JobSpec[]): Promise<void> {
  if (specs.length === 0) return;
  const rows = specs.map((s) => ({
    identifier: s.name,
    payload: s.payload,
    run_at: s.runAt?.toISOString(),
    max_attempts: s.maxAttempts,
    job_key: s.jobKey,
    priority: s.priority,
  }));
  await trx.query(
    `select graphile_worker.add_jobs(
       array(select json_populate_recordset(null::graphile_worker.job_spec, $1::json)), false)`,
    [JSON.stringify(rows)],
  );
}
