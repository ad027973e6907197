import type { GovRegistry } from '../../../integrations/gov-registry/port.js';
import { type Pool, withTransaction } from '../../../platform/db/pool.js';
import type { Logger } from '../../../platform/logger.js';
import { applyTransitions, type Transition } from '../../../reports/transition.js';
import { enqueueJobs, sweepJob } from '../../jobs.js';
import { newLease, nextLapse, takeBack } from '../../runner/lease.js';
import { casesOf, claimForForward } from './forward.repository.js';
import { callRegistry, MIN_RETRY_MS, type Outcome, registryAway } from './registry-calls.js';

/** Reports per claim. */
const FORWARD_BATCH = 20;
/**
 * How long a claim may take over its calls before another sweep may claim its reports again: past the slowest
 * claim the adapter allows with the defaults (20 reports, 8 at a time, each up to 4 attempts × 5 s plus backoff:
 * ~80 s), with room for a queue at the bulkhead. A claim that overruns only asks the registry twice (idempotent);
 * a report whose process died waits this long.
 */
export const FORWARD_LEASE_MS = 5 * 60_000;

export interface ForwardDeps {
  pool: Pool;
  registry: GovRegistry;
  logger: Logger;
  /** Default FORWARD_LEASE_MS. */
  leaseMs?: number;
}

/**
 * approved → forwarded: each approved report becomes a case at the government registry, idempotent by report id
 * (the adapter always sends the report id as the Idempotency-Key, so a retry after a lost answer or a crash finds
 * the same case instead of opening a second).
 *
 * No transaction is open while the registry is called: a claim leases its reports in one statement and commits,
 * the calls run, and one transaction records the outcomes of the reports still leased to that claim (each
 * transition guarded by the version the claim read). A slow registry thus holds no row lock and no connection. A
 * process killed between the call and the record leaves the lease to lapse; the next claim asks the registry
 * again, gets the case it already opened, and records it once.
 *
 * When the registry is away (breaker open, outage, timeouts) nothing is dropped: the reports stay `approved` and the
 * sweep is rescheduled for when the breaker will let a probe through. A case the registry refuses for good (a 4xx
 * about the case itself) moves the report to `failed` for an operator, with the registry's code.
 */
export async function forwardSweep(deps: ForwardDeps): Promise<number> {
  const leaseMs = deps.leaseMs ?? FORWARD_LEASE_MS;
  let forwarded = 0;
  // Reports whose call failed in this sweep (after the adapter's own retries): left for the rescheduled sweep, so
  // a flaky registry does not hold up the rest, nor get hammered with the same report.
  const deferred: string[] = [];
  let retryAfterMs: number | null = null;
  for (;;) {
    const lease = newLease(leaseMs);
    const reports = await claimForForward(deps.pool, FORWARD_BATCH, deferred, lease);
    if (reports.length === 0) break;
    const cases = await casesOf(deps.pool, reports);
    const outcomes = await callRegistry(deps, cases, AbortSignal.timeout(leaseMs));
    const byId = new Map(reports.map((r, i) => [r.id, outcomes[i]!]));
    let breakerOpen = false;
    for (const o of outcomes) {
      if (o.kind !== 'unavailable') continue;
      retryAfterMs = Math.max(retryAfterMs ?? 0, o.retryAfterMs);
      if (registryAway(o)) breakerOpen = true;
    }
    deferred.push(...reports.filter((r) => byId.get(r.id)!.kind === 'unavailable').map((r) => r.id));
    const moved = await withTransaction(deps.pool, async (trx) => {
      // Clears the lease of every report still ours, the deferred ones too: the rescheduled sweep claims them.
      const mine = await takeBack(trx, [...byId.keys()], 'approved', lease.owner);
      return applyTransitions(
        trx,
        mine.flatMap((report) => {
          const t = transitionOf(byId.get(report.id)!);
          return t ? [{ report, t }] : [];
        }),
      );
    });
    forwarded += reports.filter((r) => moved.has(r.id) && byId.get(r.id)!.kind === 'forwarded').length;
    if (breakerOpen || reports.length < FORWARD_BATCH) break;
  }
  if (retryAfterMs !== null) {
    // Some calls failed, or the registry is away: come back when it may be back, one pending retry sweep at most.
    const wait = Math.max(MIN_RETRY_MS, retryAfterMs);
    await enqueueJobs(deps.pool, [
      { ...sweepJob('forward'), jobKey: 'forward:retry', runAt: new Date(Date.now() + wait) },
    ]);
    deps.logger.warn(
      { retryInMs: wait, deferred: deferred.length },
      'gov registry calls failed: forwarding rescheduled',
    );
  }
  await lookWhenLeaseLapses(deps.pool);
  return forwarded;
}

function transitionOf(o: Outcome): Transition | null {
  if (o.kind === 'forwarded') {
    return {
      toStatus: 'forwarded',
      eventType: 'forwarded',
      actor: 'system:forward',
      data: { caseNumber: o.caseNumber, ...(o.duplicate ? { alreadyKnown: true } : {}) },
      patch: { caseNumber: o.caseNumber, forwardedAt: new Date() },
    };
  }
  if (o.kind === 'rejected') {
    return {
      toStatus: 'failed',
      eventType: 'stage_failed',
      actor: 'system:forward',
      data: { stage: 'forward', from: 'approved', error: `${o.code}: ${o.message}`.slice(0, 500) },
      patch: { reasonCode: 'PIPELINE_ERROR' },
    };
  }
  return null;
}

/**
 * Reports leased to another claim are that claim's to record; but if its process died, no approval or retry may
 * come to sweep them when the lease lapses, so a sweep is scheduled for then (one per lease, by its owner).
 */
async function lookWhenLeaseLapses(pool: Pool): Promise<void> {
  const lapse = await nextLapse(pool, 'approved');
  if (!lapse) return;
  await enqueueJobs(pool, [
    { ...sweepJob('forward'), jobKey: `forward:lapse:${lapse.owner}`, runAt: lapse.at },
  ]);
}
