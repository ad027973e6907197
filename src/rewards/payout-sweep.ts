import { enqueueJobs, sweepJob } from '../pipeline/jobs.js';
import { type Pool, withTransaction } from '../platform/db/pool.js';
import type { Logger } from '../platform/logger.js';
import { REPORT_COLUMNS, type ReportRow } from '../reports/reports.repository.js';
import { applyTransitions } from '../reports/transition.js';
import { citizenAccount, PAYOUTS, postLedger } from './ledger.js';
import type { PayoutGateway } from './payout.js';

const PAYOUT_BATCH = 20;

/**
 * paid → rewarded: pays each accrued reward through the payout port (idempotency key = the report, so a retry
 * after a crash between paying and committing pays nothing new), records the payout in the ledger (unique per
 * report) and moves the report on. A failing provider leaves the reports `paid` for a later sweep.
 */
export async function payoutSweep(deps: {
  pool: Pool;
  payouts: PayoutGateway;
  logger: Logger;
}): Promise<number> {
  let done = 0;
  for (;;) {
    const claimed = await withTransaction(deps.pool, async (trx) => {
      const { rows: reports } = await trx.query<ReportRow>(
        `select ${REPORT_COLUMNS} from reports where status = 'paid' order by paid_at, id limit $1 for update skip locked`,
        [PAYOUT_BATCH],
      );
      const moved = [];
      for (const report of reports) {
        const amount = report.reward_sum ?? 0;
        let reference: string | null = null;
        if (amount > 0) {
          try {
            reference = (
              await deps.payouts.pay({
                idempotencyKey: `reward:${report.id}`,
                citizenId: report.citizen_id,
                amountSum: amount,
              })
            ).reference;
          } catch (err) {
            deps.logger.warn({ err, reportId: report.id }, 'payout failed; will retry');
            await enqueueJobs(deps.pool, [
              { ...sweepJob('payout'), jobKey: 'payout:retry', runAt: new Date(Date.now() + 30_000) },
            ]);
            continue;
          }
          await postLedger(trx, {
            kind: 'payout',
            reportId: report.id,
            citizenId: report.citizen_id,
            amountSum: amount,
            debit: citizenAccount(report.citizen_id),
            credit: PAYOUTS,
            reference,
          });
        }
        moved.push({
          report,
          t: {
            toStatus: 'rewarded' as const,
            eventType: 'rewarded',
            actor: 'system:payout',
            data: { rewardSum: amount, ...(reference ? { reference } : {}) },
            patch: { rewardedAt: new Date() },
          },
        });
      }
      await applyTransitions(trx, moved);
      done += moved.length;
      return reports.length;
    });
    if (claimed < PAYOUT_BATCH) return done;
  }
}
