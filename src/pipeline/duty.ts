import type { PoolClient, Queryable } from '../platform/db/pool.js';
import type { JobName } from './jobs.js';
import { stageWaitingFor } from './queues.js';

/**
 * A sweep "on duty": after its queue empties, a stage's sweep stays a moment (PIPELINE_LINGER_MS) and claims new
 * arrivals as they come, and the transactions handing reports to that stage enqueue no sweep job while it does.
 * At a steady 100 reports/s each hand-off otherwise cost a job for ~2 reports — `add_jobs` with its NOTIFY waking
 * every runner, `get_job`, the claim, the delete: ~32 statements and 17.7 ms of CPU per report against 5.9 ms for
 * the same stages draining a backlog (bench/README.md, "pipeline").
 *
 * The hand-off stays race-free through two advisory locks per stage (db/migrations/0013): the sweep on duty holds
 * the duty lock for its session; a hand-off takes the stop lock shared until it commits and then tries the duty lock
 * shared (`pipeline_handoff_free`); going off duty, the sweep takes the stop lock exclusively — waiting for every
 * hand-off that counted on it to commit — claims once more, and lets go of the duty lock before the stop lock (a
 * hand-off let through finds nobody on duty and enqueues a job). A sweep that fails on duty fails its job, which
 * graphile-worker runs again; one whose process dies leaves its job locked until the heartbeat registry unlocks it.
 * Either way the rerun claims whatever the skipped hand-offs left waiting, and the session's locks end with it.
 */
export const DUTY_STAGES = ['validate', 'dedupe', 'enrich', 'analyze'] as const satisfies readonly JobName[];
const LOCK_SPACE = 4_870_733;

/** The stage's slot for its locks, or -1 for a stage whose hand-offs always enqueue a job. */
export function dutySlot(stage: JobName): number {
  return (DUTY_STAGES as readonly JobName[]).indexOf(stage);
}

/**
 * Whether `stage` may run in batches in this process (runner.ts `runInBatches`): batches are the autoscaler's, so
 * only with AUTOSCALE and a hold share above 0, and only for a stage with duty locks. The workers and the autoscaler
 * both ask this, so a stage the autoscaler sizes to 0 is one the workers run in batches, never one they stop.
 */
export function batchesAllowed(
  config: { AUTOSCALE: boolean; AUTOSCALE_BATCH_HOLD_SHARE: number },
  stage: JobName,
): boolean {
  return config.AUTOSCALE && config.AUTOSCALE_BATCH_HOLD_SHARE > 0 && dutySlot(stage) >= 0;
}

/**
 * In a transaction handing reports to `stage`: whether it must enqueue a sweep job (true), or a sweep on duty will
 * claim them once this commits (false).
 */
export async function handoffNeedsJob(trx: Queryable, stage: JobName): Promise<boolean> {
  const slot = dutySlot(stage);
  if (slot < 0) return true;
  const { rows } = await trx.query<{ free: boolean }>('select pipeline_handoff_free($1) as free', [slot]);
  return rows[0]!.free;
}

/**
 * Comes on duty for the stage on the given connection (its locks live with it), unless another sweep is on duty or a
 * hand-off is committing.
 */
export async function comeOnDuty(client: PoolClient, stage: JobName): Promise<boolean> {
  const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1, $2) as ok', [
    LOCK_SPACE,
    2 * dutySlot(stage),
  ]);
  return rows[0]!.ok;
}

/** Going off duty, first part: waits until every hand-off that counted on this sweep has committed. */
export async function holdHandoffs(client: PoolClient, stage: JobName): Promise<void> {
  await client.query('select pg_advisory_lock($1, $2)', [LOCK_SPACE, 2 * dutySlot(stage) + 1]);
}

/**
 * Going off duty, last part (after the last claim): hand-offs enqueue jobs again. The duty lock goes first, in a
 * statement of its own: a hand-off waiting on the stop lock must find the duty lock free when it gets through, or
 * it would count on a sweep that has already made its last claim.
 */
export async function goOffDuty(client: PoolClient, stage: JobName): Promise<void> {
  const slot = dutySlot(stage);
  await client.query('select pg_advisory_unlock($1, $2)', [LOCK_SPACE, 2 * slot]);
  await client.query('select pg_advisory_unlock($1, $2)', [LOCK_SPACE, 2 * slot + 1]);
}

/**
 * Wakes sweeps on duty when reports enter their stage: from this process's commits at once, from other processes'
 * by the NOTIFY every commit sends (see announceChanges). A missed wake-up costs only the sweep's next look.
 */
export class StageWakeups {
  private readonly waiting = new Map<JobName, Set<() => void>>();
  /** When reports last entered each stage (performance.now()), for a waiter that was busy at that moment. */
  private readonly lastEntered = new Map<JobName, number>();

  wake(entered: Record<string, number>): void {
    for (const [status, n] of Object.entries(entered)) {
      const stage = n > 0 ? stageWaitingFor(status) : null;
      if (!stage) continue;
      this.lastEntered.set(stage, performance.now());
      const fns = this.waiting.get(stage);
      if (!fns) continue;
      this.waiting.delete(stage);
      for (const fn of fns) fn();
    }
  }

  /**
   * Resolves when reports enter the stage (true), after `ms` or when `signal` aborts (false) — whichever is first.
   * With `since` (a performance.now() reading), reports that entered after it and before this call count too.
   */
  wait(stage: JobName, ms: number, signal?: AbortSignal, since?: number): Promise<boolean> {
    if (since !== undefined && (this.lastEntered.get(stage) ?? -1) > since && !signal?.aborted) {
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const finish = (woken: boolean) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.waiting.get(stage)?.delete(wake);
        resolve(woken);
      };
      const done = () => finish(false);
      const wake = () => finish(true);
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      if (signal?.aborted) return done();
      const fns = this.waiting.get(stage) ?? new Set<() => void>();
      this.waiting.set(stage, fns);
      fns.add(wake);
    });
  }
}
