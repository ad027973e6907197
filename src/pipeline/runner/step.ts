import { type Pool, type PoolClient, type Queryable, withTransaction } from '../../platform/db/pool.js';
import { isDatabaseUnavailable } from '../../platform/db/unavailable.js';
import { claimReports, lockReport, peekReports, type ReportRow } from '../../reports/reports.repository.js';
import type { ReportStatus } from '../../reports/status.js';
import { applyTransitions, type Transition } from '../../reports/transition.js';
import { enqueueJobs, type JobName, sweepJob } from '../jobs.js';
import {
  claimUnleased,
  LEASE_FREE,
  leaseOne,
  newLease,
  nextLapse,
  peekUnleased,
  releaseLeases,
  takeBack,
  takeLeases,
} from './lease.js';

export type Decision = Omit<Transition, 'actor'>;

export interface ReportStage {
  /** States this stage acts on; a report found in any other state was already handled (a re-run is a no-op). */
  from: readonly ReportStatus[];
  /**
   * Decides the outcome for each report, in order, reading what it needs in bulk through `db` (a transaction that
   * holds the reports' row locks, so it must be quick).
   */
  decide(reports: ReportRow[], db: Queryable): Promise<Decision[]>;
  /**
   * Optional slow, idempotent preparation (media analysis) of claimed reports, run outside any transaction: the
   * claim leases the reports and commits, `prepare` writes through the pool, and a second transaction decides for
   * the reports still leased to that claim (runner/lease.ts). So a slow preparation holds no row lock and no
   * connection, and one whose process died is taken up again when its lease lapses.
   */
  prepare?(reports: ReportRow[], db: Queryable): Promise<void>;
  /**
   * Which of the claimed reports `prepare` has work for (quick, read through the claiming transaction); the others
   * are decided in the claim itself, as any stage's are. Without it every claimed report is prepared.
   */
  needsPreparing?(reports: ReportRow[], db: Queryable): Promise<string[]>;
}

/**
 * How long a claim may prepare its reports before others may claim them again. Past it the work is only done twice
 * (it is idempotent, and the slower claim records nothing); short of it, a report whose process died waits this long.
 */
export const PREPARE_LEASE_MS = 5 * 60_000;

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
 * transaction dies. A stage with slow preparation leases what needs it instead (claimPrepareDecide): what a killed
 * batch leased waits until the lease lapses.
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
      claimed = stage.prepare
        ? await claimPrepareDecide(pool, stageName, stage, batchSize, held)
        : await withTransaction(
            pool,
            async (trx) => {
              const reports = await claimReports(trx, from, batchSize);
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
        await (stage.prepare ? peekUnleased : peekReports)(pool, from, batchSize),
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
    `select exists (select 1 from reports where status = $1${stage.prepare ? ` and ${LEASE_FREE}` : ''}) as waiting`,
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
    return;
  }
  // Reports leased to another claim: if that claim's process died, nothing else would sweep them when it lapses.
  const lapse = stage.prepare ? await nextLapse(pool, stage.from[0]!) : null;
  if (lapse) {
    await enqueueJobs(pool, [
      { ...sweepJob(stageName), jobKey: `${stageName}:lapse:${lapse.owner}`, runAt: lapse.at },
    ]);
  }
}

/**
 * One claim of a stage with slow preparation, in two short transactions around it: the claim decides the reports
 * that need no preparation at once and leases the others; they are prepared outside any transaction; a second
 * transaction decides those still leased to this claim. Returns how many the claim took.
 */
async function claimPrepareDecide(
  pool: Pool,
  stageName: JobName,
  stage: ReportStage,
  batchSize: number,
  held: PoolClient | undefined,
): Promise<number> {
  const from = stage.from[0]!;
  const lease = newLease(PREPARE_LEASE_MS);
  const { claimed, pending } = await withTransaction(
    pool,
    async (trx) => {
      const reports = await claimUnleased(trx, from, batchSize);
      const needing = new Set(
        stage.needsPreparing ? await stage.needsPreparing(reports, trx) : reports.map((r) => r.id),
      );
      await decideAndApply(
        trx,
        stageName,
        stage,
        reports.filter((r) => !needing.has(r.id)),
      );
      const pending = reports.filter((r) => needing.has(r.id));
      await takeLeases(
        trx,
        pending.map((r) => r.id),
        lease,
      );
      return { claimed: reports.length, pending };
    },
    held,
  );
  if (pending.length === 0) return claimed;
  const ids = pending.map((r) => r.id);
  try {
    await stage.prepare!(pending, pool);
    await withTransaction(
      pool,
      async (trx) => decideAndApply(trx, stageName, stage, await takeBack(trx, ids, from, lease.owner)),
      held,
    );
  } catch (err) {
    // Given back, so the reports can be taken one by one at once rather than when the lease lapses.
    await releaseLeases(held ?? pool, ids, lease.owner).catch(() => {});
    throw err;
  }
  return claimed;
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
    let current = report;
    const lease = stage.prepare ? newLease(PREPARE_LEASE_MS) : null;
    try {
      if (lease) {
        const leased = await leaseOne(pool, report.id, report.status, lease);
        if (!leased) continue;
        current = leased;
        await stage.prepare!([leased], pool);
        await withTransaction(pool, async (trx) =>
          decideAndApply(trx, stageName, stage, await takeBack(trx, [report.id], report.status, lease.owner)),
        );
      } else {
        await withTransaction(pool, async (trx) => {
          const [locked] = await lockReport(trx, report.id, report.status);
          if (!locked) return;
          await decideAndApply(trx, stageName, stage, [locked]);
        });
      }
    } catch (err) {
      if (isDatabaseUnavailable(err)) throw err;
      const message = (err instanceof Error ? err.message : String(err)).slice(0, 500);
      const moved = await withTransaction(pool, async (trx) => {
        if (lease) await releaseLeases(trx, [report.id], lease.owner);
        return applyTransitions(trx, [
          {
            report: current,
            t: {
              toStatus: 'failed',
              eventType: 'stage_failed',
              actor: `system:${stageName}`,
              data: { stage: stageName, from: report.status, error: message },
              patch: { reasonCode: 'PIPELINE_ERROR' },
            },
          },
        ]);
      });
      if (moved.size) onSetAside?.(moved.size);
    }
  }
  return reports.length;
}
