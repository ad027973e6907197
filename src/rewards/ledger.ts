import type { Config } from '../platform/config/config.js';
import type { Queryable } from '../platform/db/pool.js';
import { newId } from '../platform/ids.js';

export type RewardPolicy = Pick<Config, 'REWARD_POLICY' | 'REWARD_BHM_SHARE' | 'REWARD_FINE_PERCENT'>;

/** The reward for a paid fine: a share of the BHM on the payment date (as E-Jarima pays), or a percentage of the fine. */
export function rewardFor(policy: RewardPolicy, fineSum: number, bhmSum: number | null): number {
  if (policy.REWARD_POLICY === 'fine_percent')
    return Math.round((fineSum * policy.REWARD_FINE_PERCENT) / 100);
  return Math.round((bhmSum ?? 0) * policy.REWARD_BHM_SHARE);
}

export const citizenAccount = (citizenId: string) => `liability:citizen:${citizenId}`;
export const REWARDS_EXPENSE = 'expense:rewards';
export const PAYOUTS = 'asset:payouts';

/**
 * One balanced ledger transaction: debit `debit`, credit `credit`, `amount` each. Unique per (kind, report), so a
 * second accrual or payout for the same report inserts nothing and returns false — paying twice is impossible by
 * the schema, not by care.
 */
export async function postLedger(
  trx: Queryable,
  t: {
    kind: 'reward_accrual' | 'payout' | 'reward_reversal';
    reportId: string;
    citizenId: string;
    amountSum: number;
    debit: string;
    credit: string;
    reference?: string;
  },
): Promise<boolean> {
  const { rows } = await trx.query<{ n: number }>(
    `with tx as (
       insert into ledger_transactions (id, kind, report_id, citizen_id, amount_sum, reference)
       values ($1, $2, $3, $4, $5, $6) on conflict (kind, report_id) do nothing returning id),
     legs as (
       insert into ledger_entries (transaction_id, account, amount_sum)
       select tx.id, leg.account, leg.amount from tx
        cross join (values ($7::text, $5::bigint), ($8::text, -$5::bigint)) as leg(account, amount)
       returning 1)
     select count(*)::int as n from legs`,
    [newId(), t.kind, t.reportId, t.citizenId, t.amountSum, t.reference ?? null, t.debit, t.credit],
  );
  return (rows[0]?.n ?? 0) > 0;
}

export interface CitizenRewards {
  accruedSum: number;
  paidOutSum: number;
  items: {
    reportId: string;
    amountSum: number;
    accruedAt: Date;
    paidOutAt: Date | null;
    reference: string | null;
  }[];
}

/** A citizen's rewards from the ledger: what accrued, what was paid out, per report. */
export async function citizenRewards(db: Queryable, citizenId: string, limit = 200): Promise<CitizenRewards> {
  const { rows } = await db.query<{
    report_id: string;
    amount_sum: number;
    accrued_at: Date;
    paid_out_at: Date | null;
    reference: string | null;
  }>(
    `select a.report_id, a.amount_sum, a.created_at as accrued_at, p.created_at as paid_out_at, p.reference
       from ledger_transactions a
       left join ledger_transactions p on p.report_id = a.report_id and p.kind = 'payout'
      where a.citizen_id = $1 and a.kind = 'reward_accrual'
      order by a.created_at desc limit $2`,
    [citizenId, limit],
  );
  const { rows: totals } = await db.query<{ accrued: number; paid: number }>(
    `select coalesce(sum(amount_sum) filter (where kind = 'reward_accrual'), 0)::bigint as accrued,
            coalesce(sum(amount_sum) filter (where kind = 'payout'), 0)::bigint as paid
       from ledger_transactions where citizen_id = $1`,
    [citizenId],
  );
  return {
    accruedSum: totals[0]!.accrued,
    paidOutSum: totals[0]!.paid,
    items: rows.map((r) => ({
      reportId: r.report_id,
      amountSum: r.amount_sum,
      accruedAt: r.accrued_at,
      paidOutAt: r.paid_out_at,
      reference: r.reference,
    })),
  };
}
