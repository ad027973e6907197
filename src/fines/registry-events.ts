import type { RegistryEvent } from '../integrations/gov-registry/port.js';
import { sweepJob } from '../pipeline/jobs.js';
import type { Config } from '../platform/config/config.js';
import { type Pool, withTransaction } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import type { ReferenceData } from '../reference/reference.js';
import { lockReportForUpdate } from '../reports/reports.repository.js';
import { applyTransitions, type Transition } from '../reports/transition.js';
import {
  citizenAccount,
  postLedger,
  REWARDS_EXPENSE,
  type RewardPolicy,
  rewardFor,
} from '../rewards/ledger.js';

export type EventOutcome = 'applied' | 'duplicate' | 'recorded';

/**
 * A registry callback, once: the event id is recorded in the same transaction as its effect, so a redelivery finds
 * it and changes nothing. `fine.issued` moves a forwarded report to `fined`; `fine.paid` moves it (from forwarded or
 * fined — deliveries can arrive out of order) to `paid`, accrues the citizen's reward in the ledger and queues the
 * payout. An event that would move a report backwards is recorded but not applied; one that arrives before the
 * forward is recorded is refused with 409, to be sent again.
 */
export async function applyRegistryEvent(
  pool: Pool,
  deps: { reference: ReferenceData; config: RewardPolicy & Pick<Config, 'REWARD_POLICY'> },
  e: RegistryEvent,
): Promise<EventOutcome> {
  return withTransaction(pool, async (trx) => {
    const report = await lockReportForUpdate(trx, e.reportId);
    if (!report) throw new AppError('REPORT_NOT_FOUND', { field: 'reportId' });
    // The registry has the case — the event proves it — but the forward sweep has not recorded its answer yet (a
    // callback that outruns it by milliseconds). Refused before it is recorded, so the registry's redelivery applies
    // it once the report is `forwarded`; recorded now, it would never be.
    if (report.status === 'approved') throw new AppError('REPORT_NOT_FORWARDED_YET', { field: 'reportId' });
    const seen = await trx.query(
      `insert into gov_events (event_id, report_id, type, payload, applied) values ($1, $2, $3, $4, false)
       on conflict (event_id) do nothing returning event_id`,
      [e.id, e.reportId, e.type, JSON.stringify(e)],
    );
    if (seen.rowCount === 0) return 'duplicate';

    const at = new Date(e.occurredAt);
    let t: Transition | null = null;
    if (e.type === 'fine.issued' && report.status === 'forwarded') {
      t = {
        toStatus: 'fined',
        eventType: 'fined',
        actor: 'gov-registry',
        data: { caseNumber: e.caseNumber, amountSum: e.amountSum, eventId: e.id },
        patch: { fineAmountSum: e.amountSum, finedAt: at },
      };
      // The number the driver looks the case up by. A number the registry reused for another case is not stored
      // (the lookup must find one case), rather than failing the callback for ever.
      if (e.rulingNumber)
        await trx.query(
          `update reports set ruling_number = $2
           where id = $1 and not exists (select 1 from reports where ruling_number = $2)`,
          [report.id, e.rulingNumber],
        );
    } else if (e.type === 'fine.paid' && (report.status === 'forwarded' || report.status === 'fined')) {
      const reward = rewardFor(deps.config, e.amountSum, deps.reference.bhmOn(at));
      if (reward > 0) {
        await postLedger(trx, {
          kind: 'reward_accrual',
          reportId: report.id,
          citizenId: report.citizen_id,
          amountSum: reward,
          debit: REWARDS_EXPENSE,
          credit: citizenAccount(report.citizen_id),
        });
      }
      t = {
        toStatus: 'paid',
        eventType: 'paid',
        actor: 'gov-registry',
        data: { caseNumber: e.caseNumber, amountSum: e.amountSum, rewardSum: reward, eventId: e.id },
        patch: { fineAmountSum: e.amountSum, paidAt: at, rewardSum: reward },
        next: [sweepJob('payout')],
      };
    }
    if (!t) return 'recorded';
    await applyTransitions(trx, [{ report, t }]);
    await trx.query('update gov_events set applied = true where event_id = $1', [e.id]);
    return 'applied';
  });
}
