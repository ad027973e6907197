import { type Static, Type as T, type TSchema } from '@sinclair/typebox';
import type { Queryable } from '../platform/db/pool.js';

const ReportJob = T.Object({ reportId: T.String({ format: 'uuid' }) }, { additionalProperties: false });

/**
 * The one registry of pipeline jobs: task name → payload schema. Payload types derive from it; the worker checks
 * at start-up that every name has exactly one handler.
 */
export const JOB_SCHEMAS = {
  validate: ReportJob,
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

/** The job that moves a report through `stage`, keyed so that enqueueing it twice is harmless. */
export function reportJob<N extends JobName>(name: N, reportId: string): JobSpec<N> {
  return { name, payload: { reportId } as JobPayload<N>, jobKey: `${name}:${reportId}` };
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
