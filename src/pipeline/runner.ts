import { type Pool, withTransaction } from '../platform/db/pool.js';
import { findReport, type ReportRow } from '../reports/reports.repository.js';
import type { ReportStatus } from '../reports/status.js';
import { applyTransition, type Transition } from '../reports/transition.js';

export interface ReportStage {
  /** States this stage acts on; a report found in any other state was already handled (a re-run is a no-op). */
  from: readonly ReportStatus[];
  /** Decides the outcome from a snapshot of the report; may be slow, holds no lock or transaction. */
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
