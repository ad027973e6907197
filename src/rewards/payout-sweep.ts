import { randomUUID } from 'node:crypto';
import type { PayoutGateway } from '../integrations/payments/port.js';
import { enqueueJobs, sweepJob } from '../pipeline/jobs.js';
import type { Config } from '../platform/config/config.js';
import { type Pool, withTransaction } from '../platform/db/pool.js';
import { toError } from '../platform/errors/catalog.js';
import type { Logger } from '../platform/logger.js';
import { REPORT_COLUMNS, type ReportRow } from '../reports/reports.repository.js';
import { applyTransitions } from '../reports/transition.js';
import { citizenAccount, PAYOUTS, postLedger } from './ledger.js';
import {
  type ClaimedPayout,
  claimPayouts,
  openPayouts,
  recordAccepted,
  recordRefused,
  releaseForRetry,
} from './payouts.repository.js';

const PAYOUT_BATCH = 20;

export interface PayoutRetryPolicy {
  /** Wait after the first failed attempt; doubles with each further one. */
  initialDelayMs: number;
  maxDelayMs: number;
}

const DEFAULT_RETRY: PayoutRetryPolicy = { initialDelayMs: 5_000, maxDelayMs: 15 * 60_000 };

export interface PayoutSweepDeps {
  pool: Pool;
  payouts: PayoutGateway;
  logger: Logger;
  config: Pick<Config, 'PAYOUT_LEASE_SECONDS'>;
  retry?: PayoutRetryPolicy;
}

/**
 * paid → rewarded, with no transaction open across the provider call:
 * 1. in a short transaction, each paid report with a reward gets its payout row (unique per report, carrying the
 *    idempotency key), and a report with no reward moves on at once;
 * 2. due payouts are claimed under a lease (one statement);
 * 3. the provider is called outside any transaction, with the payout's key;
 * 4. the outcome is recorded in a second transaction guarded by the lease: the ledger entry (unique per report) and
 *    the report's move to `rewarded`, or the payout due again after a backoff, or stopped if refused.
 * A sweeper that dies between 3 and 4 leaves its lease to lapse; the next claim calls again with the same key and
 * the provider answers with the payment it already made, so nothing is paid twice.
 */
export async function payoutSweep(deps: PayoutSweepDeps): Promise<number> {
  await openDuePayouts(deps);
  const retry = deps.retry ?? DEFAULT_RETRY;
  let done = 0;
  let nextRetry: Date | null = null;
  // A payout that failed earlier in this sweep can come due again before the sweep ends; the sweep stops after the
  // batch that claims one again, so a sweep through an outage ends however short the backoff.
  const tried = new Set<string>();
  for (;;) {
    const leaseToken = randomUUID();
    const claimed = await claimPayouts(deps.pool, {
      leaseToken,
      leaseSeconds: deps.config.PAYOUT_LEASE_SECONDS,
      limit: PAYOUT_BATCH,
    });
    const fresh = claimed.filter((p) => !tried.has(p.report_id));
    for (const p of claimed) tried.add(p.report_id);
    for (const payout of claimed) {
      const outcome = await payOne(deps, payout, retry);
      if (outcome === 'rewarded') done++;
      else if (outcome instanceof Date && (!nextRetry || outcome < nextRetry)) nextRetry = outcome;
    }
    if (claimed.length < PAYOUT_BATCH || fresh.length < claimed.length) break;
  }
  // Retries are due after this sweep: one job (by key: one retry sweep waiting, not one per payout) brings it back.
  if (nextRetry)
    await enqueueJobs(deps.pool, [{ ...sweepJob('payout'), jobKey: 'payout:retry', runAt: nextRetry }]);
  return done;
}

/** Step 1: payout rows for paid reports that have none; rewardless reports go straight to `rewarded`. */
async function openDuePayouts(deps: PayoutSweepDeps): Promise<void> {
  for (;;) {
    const seen = await withTransaction(deps.pool, async (trx) => {
      const { rows: reports } = await trx.query<ReportRow>(
        `select ${REPORT_COLUMNS} from reports r
          where status = 'paid' and not exists (select 1 from payouts p where p.report_id = r.id)
          order by paid_at, id limit $1 for update skip locked`,
        [PAYOUT_BATCH],
      );
      const rewarded = reports.filter((r) => (r.reward_sum ?? 0) > 0);
      await openPayouts(
        trx,
        rewarded.map((r) => ({ id: r.id, citizen_id: r.citizen_id, reward_sum: r.reward_sum! })),
      );
      await applyTransitions(
        trx,
        reports
          .filter((r) => (r.reward_sum ?? 0) <= 0)
          .map((report) => ({ report, t: rewardedTransition(0, null) })),
      );
      return reports.length;
    });
    if (seen < PAYOUT_BATCH) return;
  }
}

/** Steps 3 and 4 for one claimed payout: 'rewarded', the time it is due again, or 'stopped'. */
async function payOne(
  deps: PayoutSweepDeps,
  payout: ClaimedPayout,
  retry: PayoutRetryPolicy,
): Promise<'rewarded' | 'lost_lease' | 'stopped' | Date> {
  const key = { reportId: payout.report_id, leaseToken: payout.lease_token };
  let reference: string;
  try {
    ({ reference } = await deps.payouts.pay({
      idempotencyKey: payout.idempotency_key,
      citizenId: payout.citizen_id,
      amountSum: payout.amount_sum,
    }));
  } catch (caught) {
    const err = toError(caught);
    if ('retryable' in err && err.retryable === false) {
      deps.logger.error({ err, reportId: payout.report_id }, 'payout refused by the provider; stopped');
      await recordRefused(deps.pool, { ...key, error: err.message });
      return 'stopped';
    }
    // Anything else may or may not have paid: the same key next time finds out.
    const backoff = Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** Math.max(0, payout.attempts - 1));
    const hint = 'retryAfterMs' in err && typeof err.retryAfterMs === 'number' ? err.retryAfterMs : 0;
    const retryAt = new Date(Date.now() + Math.max(backoff, hint));
    deps.logger.warn({ err, reportId: payout.report_id, retryAt }, 'payout failed; will retry');
    await releaseForRetry(deps.pool, { ...key, retryAt, error: err.message });
    return retryAt;
  }
  return withTransaction(deps.pool, async (trx) => {
    if (!(await recordAccepted(trx, { ...key, reference }))) return 'lost_lease' as const;
    await postLedger(trx, {
      kind: 'payout',
      reportId: payout.report_id,
      citizenId: payout.citizen_id,
      amountSum: payout.amount_sum,
      debit: citizenAccount(payout.citizen_id),
      credit: PAYOUTS,
      reference,
    });
    const { rows } = await trx.query<ReportRow>(
      `select ${REPORT_COLUMNS} from reports where id = $1 and status = 'paid' for update`,
      [payout.report_id],
    );
    await applyTransitions(
      trx,
      rows.map((report) => ({ report, t: rewardedTransition(payout.amount_sum, reference) })),
    );
    return 'rewarded' as const;
  });
}

function rewardedTransition(amount: number, reference: string | null) {
  return {
    toStatus: 'rewarded' as const,
    eventType: 'rewarded',
    actor: 'system:payout',
    data: { rewardSum: amount, ...(reference ? { reference } : {}) },
    patch: { rewardedAt: new Date() },
  };
}
