import { type Pool, withTransaction } from '../platform/db/pool.js';
import { claimReports, findReport, type ReportRow } from '../reports/reports.repository.js';
import type { ReportStatus } from '../reports/status.js';
import { applyTransition, type Transition } from '../reports/transition.js';

export interface ReportStage {
  /** States this stage acts on; a report found in any other state was already handled (a re-run is a no-op). */
  from: readonly ReportStatus[];
  /**
   * Decides the outcome for a report. In `runReportStage` it runs on a snapshot outside any transaction (so it may
   * be slow); in `runBatchStage` inside the claiming transaction (so it must be quick).
   */
  decide(report: ReportRow): Promise<Omit<Transition, 'actor'>>;
}

export type StageResult = 'applied' | 'skipped';

/**
 * Runs one stage for one report. The decision is taken outside any transaction; applying it is one transaction
 * guarded by the version read, so a job that runs twice (a retry, a worker killed after commit) changes nothing
 * the second time.
 */
export async function runReportStage(
  pool: Pool,
  stageName: string,
  reportId: string,
  stage: ReportStage,
): Promise<StageResult> {
  const report = await findReport(pool, reportId);
  if (!report || !stage.from.includes(report.status)) return 'skipped';
  const outcome = await stage.decide(report);
  const applied = await withTransaction(pool, (trx) =>
    applyTransition(trx, report, { ...outcome, actor: `system:${stageName}` }),
  );
  return applied ? 'applied' : 'skipped';
}

/**
 * Sweeps a stage: claims up to `batchSize` reports waiting in its first input state (FOR UPDATE SKIP LOCKED, so
 * parallel sweeps share the work), applies the stage to each in one transaction, and repeats until none is left.
 * A sweep killed midway loses nothing: the claimed rows go back to waiting when its transaction dies.
 */
export async function runBatchStage(
  pool: Pool,
  stageName: string,
  stage: ReportStage,
  batchSize: number,
): Promise<number> {
  let done = 0;
  for (;;) {
    const claimed = await withTransaction(pool, async (trx) => {
      const reports = await claimReports(trx, stage.from[0]!, batchSize);
      for (const report of reports) {
        const outcome = await stage.decide(report);
        await applyTransition(trx, report, { ...outcome, actor: `system:${stageName}` });
      }
      return reports.length;
    });
    done += claimed;
    if (claimed < batchSize) return done;
  }
}
