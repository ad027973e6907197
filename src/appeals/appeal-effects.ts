import type { Queryable } from '../platform/db/pool.js';
import { lockReportForUpdate } from '../reports/reports.repository.js';
import { applyTransitions } from '../reports/transition.js';
import { citizenAccount, postLedger, REWARDS_EXPENSE } from '../rewards/ledger.js';
import type { AppealDecisionKind, DriverLang } from './appeals.schema.js';

/**
 * What a decision the registry has recorded does, inside the transaction that marks it delivered:
 * - every decision: an event on the report (`appeal_upheld`, `appeal_corrected`, `overturned`);
 * - cancel: the report becomes `overturned` (the citizen is told through the usual notification, which names no
 *   driver), a payout not yet made is stopped, and the reward accrued and unpaid is reversed in the ledger
 *   (`reward_reversal`). A reward already paid out is left alone: it is never clawed back automatically.
 * Returns 'payout_in_flight' when a payout is being made this minute: the caller rolls back and tries later.
 */
export async function applyDecisionEffects(
  trx: Queryable,
  a: { id: string; report_id: string; decision: AppealDecisionKind; corrected_violation_code: string | null },
): Promise<'applied' | 'payout_in_flight'> {
  const report = await lockReportForUpdate(trx, a.report_id);
  if (!report) return 'applied';
  if (a.decision !== 'cancel') {
    await applyTransitions(trx, [
      {
        report,
        t: {
          toStatus: report.status,
          eventType: a.decision === 'uphold' ? 'appeal_upheld' : 'appeal_corrected',
          actor: 'system:appeal',
          data: {
            appealId: a.id,
            ...(a.corrected_violation_code ? { violationCode: a.corrected_violation_code } : {}),
          },
        },
      },
    ]);
    return 'applied';
  }
  // Recorded once already (a redelivery): the ledger and the timeline have it.
  if (report.status === 'overturned') return 'applied';
  const { rows: payouts } = await trx.query<{ status: string; leased: boolean }>(
    `select status, coalesce(lease_expires_at >= now(), false) as leased from payouts
      where report_id = $1 for update`,
    [a.report_id],
  );
  const payout = payouts[0];
  if (payout?.status === 'pending' && payout.leased) return 'payout_in_flight';
  if (payout?.status === 'pending')
    await trx.query(
      `update payouts set status = 'failed', last_error = 'fine cancelled on appeal' where report_id = $1`,
      [a.report_id],
    );
  const { rows: ledger } = await trx.query<{ kind: string; amount_sum: string }>(
    `select kind, amount_sum from ledger_transactions where report_id = $1`,
    [a.report_id],
  );
  const accrued = ledger.find((l) => l.kind === 'reward_accrual');
  const paidOut = ledger.some((l) => l.kind === 'payout');
  let reward: 'none' | 'reversed' | 'kept_paid' = 'none';
  if (accrued && paidOut) reward = 'kept_paid';
  else if (accrued) {
    await postLedger(trx, {
      kind: 'reward_reversal',
      reportId: a.report_id,
      citizenId: report.citizen_id,
      amountSum: Number(accrued.amount_sum),
      debit: citizenAccount(report.citizen_id),
      credit: REWARDS_EXPENSE,
      reference: `appeal:${a.id}`,
    });
    reward = 'reversed';
  }
  await applyTransitions(trx, [
    {
      report,
      t: {
        toStatus: 'overturned',
        eventType: 'overturned',
        actor: 'system:appeal',
        data: { appealId: a.id, reward },
      },
    },
  ]);
  return 'applied';
}

const DECISION_SMS: Record<
  DriverLang,
  Record<AppealDecisionKind, (plate: string, code: string) => string>
> = {
  uz: {
    cancel: (p) => `Jarima: ${p} boʻyicha shikoyat qanoatlantirildi, jarima bekor qilindi.`,
    correct: (p, c) => `Jarima: ${p} boʻyicha shikoyat koʻrib chiqildi, qaror tuzatildi (${c}).`,
    uphold: (p) => `Jarima: ${p} boʻyicha shikoyat rad etildi, jarima oʻz kuchida.`,
  },
  ru: {
    cancel: (p) => `Jarima: жалоба по ${p} удовлетворена, штраф отменён.`,
    correct: (p, c) => `Jarima: по жалобе на ${p} постановление исправлено (${c}).`,
    uphold: (p) => `Jarima: жалоба по ${p} отклонена, штраф остаётся в силе.`,
  },
  en: {
    cancel: (p) => `Jarima: your appeal for ${p} is granted; the fine is cancelled.`,
    correct: (p, c) => `Jarima: on your appeal for ${p} the ruling was corrected (${c}).`,
    uphold: (p) => `Jarima: your appeal for ${p} is refused; the fine stands.`,
  },
};

/** The driver's SMS: the plate and the outcome, in the language the appeal was filed in. */
export function driverMessage(a: {
  plate: string;
  decision: AppealDecisionKind;
  corrected_violation_code: string | null;
  lang: DriverLang;
}): string {
  return DECISION_SMS[a.lang][a.decision](a.plate, a.corrected_violation_code ?? '');
}
