import type { Queryable } from '../platform/db/pool.js';

/** A payout as the sweep claims it, under its lease. */
export interface ClaimedPayout {
  report_id: string;
  citizen_id: string;
  amount_sum: number;
  idempotency_key: string;
  attempts: number;
  lease_token: string;
}

/** The key the provider sees: one per reward, so every attempt, restart or second process asks for the same payment. */
export const payoutKey = (reportId: string) => `reward:${reportId}`;

/** One payout row per paid report with a reward (unique per report: a second insert does nothing). */
export async function openPayouts(
  trx: Queryable,
  reports: { id: string; citizen_id: string; reward_sum: number }[],
): Promise<void> {
  if (reports.length === 0) return;
  await trx.query(
    `insert into payouts (report_id, citizen_id, amount_sum, idempotency_key)
     select id, citizen, amount, 'reward:' || id from unnest($1::uuid[], $2::uuid[], $3::bigint[]) as v(id, citizen, amount)
     on conflict (report_id) do nothing`,
    [reports.map((r) => r.id), reports.map((r) => r.citizen_id), reports.map((r) => r.reward_sum)],
  );
}

/**
 * Claims up to `limit` due payouts for `leaseSeconds` in one statement (its own short transaction): pending, due,
 * and unleased or with a lapsed lease — a sweeper that died mid-call leaves its payouts to the next one.
 */
export async function claimPayouts(
  db: Queryable,
  q: { leaseToken: string; leaseSeconds: number; limit: number },
): Promise<ClaimedPayout[]> {
  const { rows } = await db.query<ClaimedPayout>(
    `update payouts p set lease_token = $1, lease_expires_at = now() + make_interval(secs => $2),
            attempts = p.attempts + 1
       from (select report_id from payouts
              where status = 'pending' and next_attempt_at <= now()
                and (lease_expires_at is null or lease_expires_at < now())
              order by next_attempt_at, report_id limit $3 for update skip locked) due
      where p.report_id = due.report_id
      returning p.report_id, p.citizen_id, p.amount_sum, p.idempotency_key, p.attempts, p.lease_token`,
    [q.leaseToken, q.leaseSeconds, q.limit],
  );
  return rows;
}

/** The provider took the payout: recorded only while the lease is ours. False: another sweeper holds it now. */
export async function recordAccepted(
  trx: Queryable,
  p: { reportId: string; leaseToken: string; reference: string },
): Promise<boolean> {
  const { rowCount } = await trx.query(
    `update payouts set status = 'accepted', reference = $3, accepted_at = now(), last_error = null,
            lease_token = null, lease_expires_at = null
      where report_id = $1 and lease_token = $2 and status = 'pending'`,
    [p.reportId, p.leaseToken, p.reference],
  );
  return (rowCount ?? 0) > 0;
}

/** A retryable failure: the lease is given back and the payout is due again at `retryAt`. */
export async function releaseForRetry(
  db: Queryable,
  p: { reportId: string; leaseToken: string; retryAt: Date; error: string },
): Promise<void> {
  await db.query(
    `update payouts set lease_token = null, lease_expires_at = null, next_attempt_at = $3, last_error = $4
      where report_id = $1 and lease_token = $2 and status = 'pending'`,
    [p.reportId, p.leaseToken, p.retryAt, p.error.slice(0, 500)],
  );
}

/** A permanent refusal: the payout stops, with the provider's reason, for an operator to look at. */
export async function recordRefused(
  db: Queryable,
  p: { reportId: string; leaseToken: string; error: string },
): Promise<void> {
  await db.query(
    `update payouts set status = 'failed', last_error = $3, lease_token = null, lease_expires_at = null
      where report_id = $1 and lease_token = $2 and status = 'pending'`,
    [p.reportId, p.leaseToken, p.error.slice(0, 500)],
  );
}

export type PayoutEventOutcome = 'applied' | 'duplicate' | 'not_found' | 'not_accepted_yet';

/**
 * The provider's settled/failed callback for the payout with this key. Only an accepted payout moves (a repeated
 * callback finds it settled or failed and changes nothing); a callback racing our own record of the acceptance is
 * answered so the provider delivers it again.
 */
export async function applyPayoutOutcome(
  db: Queryable,
  e: { idempotencyKey: string; reference: string; outcome: 'settled' | 'failed'; reason: string | null },
): Promise<PayoutEventOutcome> {
  const { rows } = await db.query<{ status: string; moved: boolean }>(
    `with moved as (
       update payouts set status = $3, settled_at = now(), last_error = $4
        where idempotency_key = $1 and reference = $2 and status = 'accepted' returning status)
     select status, true as moved from moved
     union all
     select status, false from payouts where idempotency_key = $1 and not exists (select 1 from moved)`,
    [e.idempotencyKey, e.reference, e.outcome, e.reason],
  );
  const row = rows[0];
  if (!row) return 'not_found';
  if (row.moved) return 'applied';
  return row.status === 'pending' ? 'not_accepted_yet' : 'duplicate';
}
