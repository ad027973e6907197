import type { Queryable } from '../platform/db/pool.js';

/**
 * A payout as the admins' export lists it; the phone is encrypted here and is decrypted only to be masked (null: the
 * citizen's account was deleted).
 */
export interface PayoutRow {
  id: string;
  created_at: Date;
  report_id: string;
  case_number: string | null;
  citizen_id: string;
  phone_enc: Buffer | null;
  amount_sum: number;
  reference: string | null;
}

/**
 * A page of payouts made in [from, to) (timestamps, or '-infinity' / 'infinity'), after `after` in (time, id)
 * order.
 */
export async function payoutsPage(
  db: Queryable,
  q: { from: string; to: string; after: { at: Date; id: string } | null; limit: number },
): Promise<PayoutRow[]> {
  const { rows } = await db.query<PayoutRow>(
    `select t.id, t.created_at, t.report_id, r.case_number, t.citizen_id, c.phone_enc, t.amount_sum, t.reference
       from ledger_transactions t join reports r on r.id = t.report_id join citizens c on c.id = t.citizen_id
      where t.kind = 'payout' and t.created_at >= $1::timestamptz and t.created_at < $2::timestamptz
        and ($3::timestamptz is null or (t.created_at, t.id) > ($3::timestamptz, $4::uuid))
      order by t.created_at, t.id limit $5`,
    [q.from, q.to, q.after?.at ?? null, q.after?.id ?? null, q.limit],
  );
  return rows;
}
