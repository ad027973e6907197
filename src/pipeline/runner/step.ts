import { type Pool, type PoolClient, type Queryable, withTransaction } from '../../platform/db/pool.js';
import { isDatabaseUnavailable } from '../../platform/db/unavailable.js';
import { claimReports, lockReport, peekReports, type ReportRow } from '../../reports/reports.repository.js';
import type { ReportStatus } from '../../reports/status.js';
import { applyTransitions, type Transition } from '../../reports/transition.js';
import { enqueueJobs, type JobName, sweepJob } from '../jobs.js';

export type Decision = Omit<Transition, 'actor'>;

export interface ReportStage {
  /** States this stage acts on; a report found in any other state was already handled (a re-run is a no-op). */
  from: readonly ReportStatus[];
  /**
   * Decides the outcome for each report, in order, reading what it needs in bulk through `db` (the claiming
   * transaction, so it must be quick).
   */
  decide(reports: ReportRow[], db: Queryable): Promise<Decision[]>;
  /**
   * Optional slow, idempotent preparation (media analysis) of claimed reports. It writes through the pool, not the
   * claiming transaction, so its results survive even if the claim is rolled back.
   */
  prepare?(reports: ReportRow[], db: Queryable): Promise<void>;
}

/** What a sweep tells its caller as it goes, whatever mode it runs in. */
export interface StepCounters {
  /** Told how many reports the stage set aside as failed. */
  onSetAside?: (n: number) => void;
  /** Told each batch's size and how long it took to claim, decide and commit (the stage's service time). */
  onBatch?: (n: number, ms: number) => void;
}

/**
 * Claims and applies batches until a claim comes back short; on `held`, the transactions run on that client.
 * Each batch is one transaction: claim up to `batchSize` reports waiting in the stage's first input state (FOR
 * UPDATE SKIP LOCKED, so parallel sweeps share the work), decide them together and apply the decisions with a fixed
 * number of statements. A batch killed midway loses nothing: its claimed rows go back to waiting when its
 * transaction dies.
 */
export async function drain(
  pool: Pool,
  stageName: JobName,
  stage: ReportStage,
  batchSize: number,
  counters: StepCounters,
  held?: PoolClient,
  /** Told after each full claim: more may be waiting. */
  onFull?: () => void,
): Promise<number> {
  let done = 0;
  const from = stage.from[0]!;
  for (;;) {
    let claimed: number;
    const started = performance.now();
    try {
      claimed = await withTransaction(
        pool,
        async (trx) => {
          const reports = await claimReports(trx, from, batchSize);
          // Slow preparation runs on the claimed rows (so parallel sweeps never duplicate it) through other
          // connections, while this transaction only holds the row locks.
          await stage.prepare?.(reports, pool);
          await decideAndApply(trx, stageName, stage, reports);
          return reports.length;
        },
        held,
      );
    } catch (err) {
      // The database itself is away: retryable, so the job fails and graphile-worker retries it with backoff.
      if (isDatabaseUnavailable(err)) throw err;
      // Otherwise one report may be poison: go one by one, and set aside only those that fail on their own.
      claimed = await oneByOne(
        pool,
        stageName,
        stage,
        await peekReports(pool, from, batchSize),
        counters.onSetAside,
      );
    }
    if (claimed > 0) counters.onBatch?.(claimed, performance.now() - started);
    done += claimed;
    if (claimed < batchSize) return done;
    onFull?.();
  }
}

/** Whether any report waits in the stage's input state (one indexed statement). */
export async function anyWaiting(db: Queryable, stage: ReportStage): Promise<boolean> {
  const { rows } = await db.query<{ waiting: boolean }>(
    'select exists (select 1 from reports where status = $1) as waiting',
    [stage.from[0]!],
  );
  return rows[0]?.waiting ?? false;
}

/**
 * SKIP LOCKED passes over rows another transaction holds at that instant (a parallel sweep, or a transition that is
 * about to lose its version race). If any are still waiting, look again shortly, so none is left behind; the key
 * keeps it to one pending re-check per stage.
 */
export async function recheckSoon(pool: Pool, stageName: JobName, stage: ReportStage): Promise<void> {
  if (await anyWaiting(pool, stage)) {
    await enqueueJobs(pool, [
      { ...sweepJob(stageName), jobKey: `${stageName}:recheck`, runAt: new Date(Date.now() + 1000) },
    ]);
  }
}

async function decideAndApply(trx: Queryable, stageName: string, stage: ReportStage, reports: ReportRow[]) {
  const decisions = await stage.decide(reports, trx);
  await applyTransitions(
    trx,
    reports.map((report, i) => ({ report, t: { ...decisions[i]!, actor: `system:${stageName}` } })),
  );
}

/**
 * A report the stage cannot handle (a permanent error) moves to `failed` with the stage and the error in its
 * event, out of the stage's way; operators see it in the dead-letter list and can send it back.
 */
async function oneByOne(
  pool: Pool,
  stageName: string,
  stage: ReportStage,
  reports: ReportRow[],
  onSetAside?: (n: number) => void,
): Promise<number> {
  for (const report of reports) {
    try {
      await withTransaction(pool, async (trx) => {
        const [locked] = await lockReport(trx, report.id, report.status);
        if (!locked) return;
        await stage.prepare?.([locked], pool);
        await decideAndApply(trx, stageName, stage, [locked]);
      });
    } catch (err) {
      if (isDatabaseUnavailable(err)) throw err;
      const message = (err instanceof Error ? err.message : String(err)).slice(0, 500);
      const moved = await withTransaction(pool, (trx) =>
        applyTransitions(trx, [
          {
            report,
            t: {
              toStatus: 'failed',
              eventType: 'stage_failed',
              actor: `system:${stageName}`,
              data: { stage: stageName, from: report.status, error: message },
              patch: { reasonCode: 'PIPELINE_ERROR' },
            },
          },
        ]),
      );
      if (moved.size) onSetAside?.(moved.size);
    }
  }
  return reports.length;
}
