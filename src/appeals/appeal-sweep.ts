import { randomUUID } from 'node:crypto';
import type { GovRegistry } from '../integrations/gov-registry/port.js';
import type { SmsGateway } from '../integrations/sms/port.js';
import { enqueueJobs, sweepJob } from '../pipeline/jobs.js';
import type { Config } from '../platform/config/config.js';
import { type Pool, withTransaction } from '../platform/db/pool.js';
import { toError } from '../platform/errors/catalog.js';
import type { Logger } from '../platform/logger.js';
import { decrypt, type Keys } from '../platform/security/keys.js';
import { applyDecisionEffects, driverMessage } from './appeal-effects.js';
import type { AppealDecisionKind, DriverLang } from './appeals.schema.js';

const BATCH = 20;
const RETRY_INITIAL_MS = 5_000;
const RETRY_MAX_MS = 15 * 60_000;

export interface AppealSweepDeps {
  pool: Pool;
  registry: Pick<GovRegistry, 'decideAppeal'>;
  sms: SmsGateway;
  keys: Pick<Keys, 'phoneEnc'>;
  logger: Logger;
  config: Pick<Config, 'APPEAL_REGISTRY_LEASE_SECONDS'>;
}

interface ClaimedDecision {
  id: string;
  report_id: string;
  case_number: string | null;
  decision: AppealDecisionKind;
  corrected_violation_code: string | null;
  registry_attempts: number;
  registry_lease_token: string;
}

/**
 * Delivers supervisors' decisions to the registry and applies them, as payouts are made (rewards/payout-sweep.ts):
 * 1. decided, undelivered appeals are claimed under a lease (one statement);
 * 2. the registry is called outside any transaction, idempotent by the appeal id (the adapter retries behind its
 *    breaker);
 * 3. in one transaction guarded by the lease: delivered, and its effects (appeal-effects.ts); or due again after a
 *    backoff; or, refused for good, stopped with the registry's reason for an operator.
 * A sender that dies between 2 and 3 leaves its lease to lapse; the next one sends again with the same appeal id
 * and the registry answers as it did, so a decision is applied once. Then the drivers are told by SMS.
 * Returns the decisions delivered.
 */
export async function appealDecisionSweep(deps: AppealSweepDeps): Promise<number> {
  let done = 0;
  let nextRetry: Date | null = null;
  const tried = new Set<string>();
  for (;;) {
    const claimed = await claim(deps.pool, randomUUID(), deps.config.APPEAL_REGISTRY_LEASE_SECONDS);
    const fresh = claimed.filter((c) => !tried.has(c.id));
    for (const c of claimed) tried.add(c.id);
    for (const c of claimed) {
      const outcome = await deliver(deps, c);
      if (outcome === 'delivered') done++;
      else if (outcome instanceof Date && (!nextRetry || outcome < nextRetry)) nextRetry = outcome;
    }
    if (claimed.length < BATCH || fresh.length < claimed.length) break;
  }
  await notifyDrivers(deps);
  // One waiting retry sweep (by its key), not one per decision.
  if (nextRetry)
    await enqueueJobs(deps.pool, [
      { ...sweepJob('forward'), jobKey: 'appeal-decisions:retry', runAt: nextRetry },
    ]);
  return done;
}

async function claim(pool: Pool, leaseToken: string, leaseSeconds: number): Promise<ClaimedDecision[]> {
  const { rows } = await pool.query<ClaimedDecision>(
    `update appeals a set registry_lease_token = $1,
            registry_lease_expires_at = now() + make_interval(secs => $2), registry_attempts = a.registry_attempts + 1
       from (select id from appeals
              where status = 'decided' and registry_sent_at is null and registry_next_attempt_at <= now()
                and (registry_lease_expires_at is null or registry_lease_expires_at < now())
              order by registry_next_attempt_at, id limit $3 for update skip locked) due
      where a.id = due.id
      returning a.id, a.report_id, a.decision, a.corrected_violation_code, a.registry_attempts,
                a.registry_lease_token, (select case_number from reports r where r.id = a.report_id) as case_number`,
    [leaseToken, leaseSeconds, BATCH],
  );
  return rows;
}

async function deliver(
  deps: AppealSweepDeps,
  c: ClaimedDecision,
): Promise<'delivered' | 'lost_lease' | 'stopped' | Date> {
  try {
    await deps.registry.decideAppeal({
      appealId: c.id,
      reportId: c.report_id,
      caseNumber: c.case_number ?? '',
      decision: c.decision,
      ...(c.corrected_violation_code ? { violationCode: c.corrected_violation_code } : {}),
    });
  } catch (caught) {
    const err = toError(caught);
    const misconfigured = 'misconfigured' in err && err.misconfigured === true;
    if ('retryable' in err && err.retryable === false && !misconfigured) {
      deps.logger.error({ err, appealId: c.id }, 'appeal decision refused by the registry; stopped');
      await release(deps.pool, c, null, err.message);
      return 'stopped';
    }
    // Unreachable, or our configuration is wrong: either may be fixed, and the same appeal id finds out.
    const backoff = Math.min(RETRY_MAX_MS, RETRY_INITIAL_MS * 2 ** Math.max(0, c.registry_attempts - 1));
    const hint = 'retryAfterMs' in err && typeof err.retryAfterMs === 'number' ? err.retryAfterMs : 0;
    const retryAt = new Date(Date.now() + Math.max(backoff, hint));
    deps.logger.warn({ err, appealId: c.id, retryAt }, 'appeal decision not delivered; will retry');
    await release(deps.pool, c, retryAt, err.message);
    return retryAt;
  }
  const outcome = await withTransaction(deps.pool, async (trx) => {
    const { rowCount } = await trx.query(
      `update appeals set registry_sent_at = now(), registry_error = null, registry_lease_token = null,
              registry_lease_expires_at = null
        where id = $1 and registry_lease_token = $2 and registry_sent_at is null`,
      [c.id, c.registry_lease_token],
    );
    if (!rowCount) return 'lost_lease' as const;
    // A payout in flight cannot be told apart from one paid: the effects wait for it (rolled back, tried again).
    if ((await applyDecisionEffects(trx, c)) === 'payout_in_flight') throw new PayoutInFlight();
    return 'delivered' as const;
  }).catch((err: unknown) => {
    if (!(err instanceof PayoutInFlight)) throw err;
    return 'payout_in_flight' as const;
  });
  if (outcome !== 'payout_in_flight') return outcome;
  const retryAt = new Date(Date.now() + RETRY_INITIAL_MS);
  await release(deps.pool, c, retryAt, 'waiting for a payout in flight to settle');
  return retryAt;
}

class PayoutInFlight extends Error {}

/** Gives the claim back: due again at `retryAt`, or (null) stopped for an operator. Only under our lease. */
async function release(pool: Pool, c: ClaimedDecision, retryAt: Date | null, error: string): Promise<void> {
  await pool.query(
    `update appeals set registry_next_attempt_at = $3, registry_error = $4, registry_lease_token = null,
            registry_lease_expires_at = null
      where id = $1 and registry_lease_token = $2`,
    [c.id, c.registry_lease_token, retryAt, error.slice(0, 500)],
  );
}

/**
 * The driver's SMS once the decision took effect: marked first (two senders never both send), unmarked when the
 * gateway fails so the next sweep sends again under the same idempotency key. Only a crash between the mark and the
 * send loses one; the decision stays readable at GET /v1/fines/case/appeal.
 */
async function notifyDrivers(deps: AppealSweepDeps): Promise<void> {
  const { rows } = await deps.pool.query<{
    id: string;
    contact_phone_enc: Buffer;
    decision: AppealDecisionKind;
    corrected_violation_code: string | null;
    plate: string;
    lang: DriverLang;
  }>(
    `update appeals a set driver_notified_at = now()
       from (select id from appeals where registry_sent_at is not null and driver_notified_at is null
              limit 100 for update skip locked) due, reports r
      where a.id = due.id and r.id = a.report_id
      returning a.id, a.contact_phone_enc, a.decision, a.corrected_violation_code, r.plate, a.lang`,
  );
  for (const r of rows) {
    try {
      await deps.sms.send(decrypt(deps.keys.phoneEnc, r.contact_phone_enc), driverMessage(r), {
        idempotencyKey: `appeal:${r.id}`,
      });
    } catch (err) {
      deps.logger.warn({ err, appealId: r.id }, 'could not tell the driver of the appeal decision by SMS');
      await deps.pool.query('update appeals set driver_notified_at = null where id = $1', [r.id]);
    }
  }
}
