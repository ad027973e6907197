import {
  type CaseSubmission,
  type GovRegistry,
  RegistryRejectedError,
  RegistryUnavailableError,
} from '../../../integrations/gov-registry/port.js';
import { type Pool, type Queryable, withTransaction } from '../../../platform/db/pool.js';
import type { Logger } from '../../../platform/logger.js';
import { REPORT_COLUMNS, type ReportRow } from '../../../reports/reports.repository.js';
import { applyTransitions, type Transition } from '../../../reports/transition.js';
import { enqueueJobs, sweepJob } from '../../jobs.js';

/** Reports per claim; the registry calls of a claim run FORWARD_PARALLEL at a time (the adapter's bulkhead caps it). */
const FORWARD_BATCH = 20;
const FORWARD_PARALLEL = 8;
/** Waits when the registry gives no hint: the first retry, doubling to the cap while it stays away. */
const MIN_RETRY_MS = 1000;
const MISCONFIGURED_RETRY_MS = 60_000;

export interface ForwardDeps {
  pool: Pool;
  registry: GovRegistry;
  logger: Logger;
}

type Outcome =
  | { kind: 'forwarded'; caseNumber: string; duplicate: boolean }
  | { kind: 'rejected'; code: string; message: string }
  | { kind: 'unavailable'; retryAfterMs: number; reason: string };

/**
 * approved → forwarded: each approved report becomes a case at the government registry, idempotent by report id
 * (the adapter always sends the report id as the Idempotency-Key, so a retry after a lost answer or a crash finds
 * the same case instead of opening a second). Claimed rows stay locked while their calls run, so two sweeps never
 * forward the same report at once.
 *
 * When the registry is away (breaker open, outage, timeouts) nothing is dropped: the reports stay `approved` and the
 * sweep is rescheduled for when the breaker will let a probe through. A case the registry refuses for good (a 4xx
 * about the case itself) moves the report to `failed` for an operator, with the registry's code.
 */
export async function forwardSweep(deps: ForwardDeps): Promise<number> {
  let forwarded = 0;
  // Reports whose call failed in this sweep (after the adapter's own retries): left for the rescheduled sweep, so
  // a flaky registry does not hold up the rest, nor get hammered with the same report.
  const deferred: string[] = [];
  let retryAfterMs: number | null = null;
  for (;;) {
    const result = await withTransaction(deps.pool, async (trx) => {
      const reports = await claimApproved(trx, FORWARD_BATCH, deferred);
      if (reports.length === 0) return { claimed: 0, breakerOpen: false };
      const cases = await casesOf(trx, reports);
      const outcomes = await callRegistry(deps, cases);
      const moves: { report: ReportRow; t: Transition }[] = [];
      let breakerOpen = false;
      reports.forEach((report, i) => {
        const o = outcomes[i]!;
        if (o.kind === 'forwarded') {
          moves.push({
            report,
            t: {
              toStatus: 'forwarded',
              eventType: 'forwarded',
              actor: 'system:forward',
              data: { caseNumber: o.caseNumber, ...(o.duplicate ? { alreadyKnown: true } : {}) },
              patch: { caseNumber: o.caseNumber, forwardedAt: new Date() },
            },
          });
        } else if (o.kind === 'rejected') {
          moves.push({
            report,
            t: {
              toStatus: 'failed',
              eventType: 'stage_failed',
              actor: 'system:forward',
              data: { stage: 'forward', from: 'approved', error: `${o.code}: ${o.message}`.slice(0, 500) },
              patch: { reasonCode: 'PIPELINE_ERROR' },
            },
          });
        } else {
          deferred.push(report.id);
          retryAfterMs = Math.max(retryAfterMs ?? 0, o.retryAfterMs);
          if (o.reason === 'breaker_open' || o.reason === 'misconfigured') breakerOpen = true;
        }
      });
      await applyTransitions(trx, moves);
      forwarded += moves.filter((m) => m.t.toStatus === 'forwarded').length;
      return { claimed: reports.length, breakerOpen };
    });
    if (result.breakerOpen || result.claimed < FORWARD_BATCH) break;
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
  return forwarded;
}

async function claimApproved(trx: Queryable, limit: number, except: string[]): Promise<ReportRow[]> {
  const { rows } = await trx.query<ReportRow>(
    `select ${REPORT_COLUMNS} from reports where status = 'approved' and id <> all($2::uuid[])
      order by forward_due_at, id limit $1 for update skip locked`,
    [limit, except],
  );
  return rows;
}

/** The case each report becomes: what the registry needs to fine the vehicle, and nothing about the reporter. */
async function casesOf(db: Queryable, reports: ReportRow[]): Promise<CaseSubmission[]> {
  const { rows } = await db.query<{ report_id: string; sha256: string; kind: 'photo' | 'video' }>(
    `select re.report_id, encode(e.sha256, 'hex') as sha256, e.kind
       from report_evidence re join evidence e on e.id = re.evidence_id
      where re.report_id = any($1::uuid[]) order by re.report_id, re.position`,
    [reports.map((r) => r.id)],
  );
  return reports.map((r) => ({
    reportId: r.id,
    violationCode: r.violation_code,
    plate: r.plate,
    incidentAt: r.incident_at.toISOString(),
    lat: r.lat,
    lon: r.lon,
    regionId: r.region_id,
    districtId: r.district_id,
    fineBhm: r.fine_bhm_max ?? r.fine_bhm_min,
    fineSum: r.fine_sum_max ?? r.fine_sum_min,
    evidence: rows.filter((e) => e.report_id === r.id).map((e) => ({ sha256: e.sha256, kind: e.kind })),
  }));
}

async function callRegistry(deps: ForwardDeps, cases: CaseSubmission[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array(cases.length);
  let next = 0;
  // Once the breaker is open, the rest of the batch is not even tried: it would only fail fast.
  let away: Outcome | null = null;
  await Promise.all(
    Array.from({ length: Math.min(FORWARD_PARALLEL, cases.length) }, async () => {
      while (next < cases.length) {
        const i = next++;
        if (away) {
          outcomes[i] = away;
          continue;
        }
        const o = await submit(deps, cases[i]!);
        outcomes[i] = o;
        if (o.kind === 'unavailable' && (o.reason === 'breaker_open' || o.reason === 'misconfigured'))
          away = o;
      }
    }),
  );
  return outcomes;
}

async function submit(deps: ForwardDeps, c: CaseSubmission): Promise<Outcome> {
  try {
    const receipt = await deps.registry.submitCase(c);
    return { kind: 'forwarded', caseNumber: receipt.caseNumber, duplicate: receipt.duplicate };
  } catch (err) {
    if (err instanceof RegistryUnavailableError) {
      return { kind: 'unavailable', retryAfterMs: err.retryAfterMs, reason: err.reason };
    }
    if (err instanceof RegistryRejectedError) {
      if (err.misconfigured) {
        // A wrong key or URL is ours to fix, not the report's fault: hold everything and shout.
        deps.logger.error({ err }, 'gov registry refuses our credentials or address: forwarding on hold');
        return { kind: 'unavailable', retryAfterMs: MISCONFIGURED_RETRY_MS, reason: 'misconfigured' };
      }
      return { kind: 'rejected', code: err.code, message: err.message };
    }
    // Anything unexpected: keep the report and try again later rather than lose or fail it.
    deps.logger.error({ err, reportId: c.reportId }, 'forwarding failed unexpectedly');
    return { kind: 'unavailable', retryAfterMs: MIN_RETRY_MS, reason: 'unexpected' };
  }
}
