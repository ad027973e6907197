import { audit } from '../audit/audit.js';
import { sweepJob } from '../pipeline/jobs.js';
import type { Config } from '../platform/config/config.js';
import { type Pool, type Queryable, withTransaction } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { REVIEW_REJECTION_REASONS } from '../reports/reasons.js';
import { findReport, lockReportForUpdate, type ReportRow } from '../reports/reports.repository.js';
import { applyTransitions, type Transition } from '../reports/transition.js';
import {
  type EvidenceFileFacts,
  evidenceFilesOf,
  findActiveStaff,
  heldBy,
  lockLapsedLeases,
  lockNextForReview,
  type QueueFilter,
  type RelatedReport,
  relatedReports,
} from './review.repository.js';

export type Decision =
  | { decision: 'approve'; note?: string }
  | { decision: 'reject'; reasonCode: string; note?: string }
  | { decision: 'needs_info'; note: string };

export type ReviewConfig = Pick<
  Config,
  'REVIEW_LEASE_MINUTES' | 'FORWARD_DEADLINE_HOURS' | 'REVIEW_ESCALATE_HOURS'
>;

const actorOf = (staffId: string) => `staff:${staffId}`;
const leaseUntil = (config: ReviewConfig) => new Date(Date.now() + config.REVIEW_LEASE_MINUTES * 60_000);
const noLease = { leaseOwner: null, leaseExpiresAt: null };

/** Where a staff action came from, for the audit log (src/audit/audit.ts `auditContext`). */
export interface ActionContext {
  ip?: string;
  userAgent?: string;
}

async function move(trx: Queryable, report: ReportRow, t: Transition): Promise<void> {
  const moved = await applyTransitions(trx, [{ report, t }]);
  // The row was locked FOR UPDATE, so its version cannot have moved under us.
  if (!moved.has(report.id)) throw new Error(`report ${report.id} changed while locked`);
}

/**
 * Claims the highest-priority report that is free (waiting, or with a lapsed lease) for this inspector, with a lease
 * of REVIEW_LEASE_MINUTES. An inspector who still holds one gets that one back instead of a second.
 */
export async function claimNext(
  pool: Pool,
  staffId: string,
  filter: QueueFilter,
  config: ReviewConfig,
  ctx: ActionContext = {},
): Promise<string | null> {
  return withTransaction(pool, async (trx) => {
    // One claim at a time per inspector, so two tabs asking at once still end up with one report.
    await trx.query(`select pg_advisory_xact_lock(hashtext('review:' || $1))`, [staffId]);
    const held = await heldBy(trx, staffId);
    if (held) return held.id;
    const report = await lockNextForReview(trx, filter);
    if (!report) return null;
    const expiresAt = leaseUntil(config);
    await move(trx, report, {
      toStatus: 'in_review',
      eventType: 'claimed',
      actor: actorOf(staffId),
      data: {
        leaseExpiresAt: expiresAt.toISOString(),
        ...(report.status === 'in_review' ? { lapsedLeaseOf: report.lease_owner } : {}),
      },
      patch: { leaseOwner: staffId, leaseExpiresAt: expiresAt },
    });
    await audit(trx, {
      ...ctx,
      actorId: staffId,
      action: 'review_claimed',
      targetKind: 'report',
      targetId: report.id,
      ...(report.status === 'in_review' ? { detail: { lapsedLeaseOf: report.lease_owner } } : {}),
    });
    return report.id;
  });
}

/** Returns reports whose lease ran out to the queue (each with a `lease_expired` event). */
export async function releaseLapsedLeases(pool: Pool, limit = 100): Promise<number> {
  return withTransaction(pool, async (trx) => {
    const lapsed = await lockLapsedLeases(trx, limit);
    const moved = await applyTransitions(
      trx,
      lapsed.map((report) => ({
        report,
        t: {
          toStatus: 'awaiting_review',
          eventType: 'lease_expired',
          actor: 'system',
          data: { leaseOwner: report.lease_owner },
          patch: noLease,
        },
      })),
    );
    return moved.size;
  });
}

async function lockHeld(trx: Queryable, id: string, staffId: string): Promise<ReportRow> {
  const report = await lockReportForUpdate(trx, id);
  if (!report) throw new AppError('REPORT_NOT_FOUND');
  const live = report.lease_expires_at !== null && report.lease_expires_at.getTime() >= Date.now();
  if (report.status !== 'in_review' || report.lease_owner !== staffId || !live)
    throw new AppError('LEASE_NOT_HELD');
  return report;
}

/** The inspector's decision on a report they hold: approve, reject with a catalogued reason, or ask for more. */
export async function decide(
  pool: Pool,
  staffId: string,
  id: string,
  d: Decision,
  config: ReviewConfig,
  ctx: ActionContext = {},
): Promise<ReportRow['status']> {
  if (d.decision === 'reject' && !(REVIEW_REJECTION_REASONS as readonly string[]).includes(d.reasonCode))
    throw new AppError('VALIDATION_FAILED', {
      field: 'reasonCode',
      message: `reasonCode must be one of ${REVIEW_REJECTION_REASONS.join(', ')}`,
    });
  return withTransaction(pool, async (trx) => {
    const report = await lockHeld(trx, id, staffId);
    const now = new Date();
    const common = {
      ...noLease,
      reviewedBy: staffId,
      decidedAt: now,
      reviewDecision: d.decision,
      reviewNote: d.note ?? null,
    };
    const data = { decision: d.decision, ...(d.note ? { note: d.note } : {}) };
    const t: Transition =
      d.decision === 'approve'
        ? {
            toStatus: 'approved',
            eventType: 'reviewed',
            actor: actorOf(staffId),
            data,
            patch: {
              ...common,
              approvedAt: now,
              forwardDueAt: new Date(now.getTime() + config.FORWARD_DEADLINE_HOURS * 3600_000),
            },
            next: [sweepJob('forward')],
          }
        : d.decision === 'reject'
          ? {
              toStatus: 'rejected',
              eventType: 'reviewed',
              actor: actorOf(staffId),
              data: { ...data, reasonCode: d.reasonCode },
              patch: { ...common, reasonCode: d.reasonCode },
            }
          : { toStatus: 'needs_info', eventType: 'reviewed', actor: actorOf(staffId), data, patch: common };
    await move(trx, report, t);
    await audit(trx, {
      ...ctx,
      actorId: staffId,
      action: 'review_decision',
      targetKind: 'report',
      targetId: id,
      detail: { decision: d.decision, ...(d.decision === 'reject' ? { reasonCode: d.reasonCode } : {}) },
    });
    return t.toStatus;
  });
}

/** The inspector hands a report back to the queue unreviewed. */
export async function release(
  pool: Pool,
  staffId: string,
  id: string,
  ctx: ActionContext = {},
): Promise<void> {
  await withTransaction(pool, async (trx) => {
    const report = await lockHeld(trx, id, staffId);
    await move(trx, report, {
      toStatus: 'awaiting_review',
      eventType: 'released',
      actor: actorOf(staffId),
      patch: noLease,
    });
    await audit(trx, {
      ...ctx,
      actorId: staffId,
      action: 'review_released',
      targetKind: 'report',
      targetId: id,
    });
  });
}

/** A supervisor gives an open report to an inspector (a fresh lease), whoever held it. */
export async function reassign(
  pool: Pool,
  supervisorId: string,
  id: string,
  inspectorId: string,
  config: ReviewConfig,
  ctx: ActionContext = {},
): Promise<void> {
  const inspector = await findActiveStaff(pool, inspectorId);
  if (!inspector || !['inspector', 'supervisor'].includes(inspector.role))
    throw new AppError('STAFF_NOT_FOUND', { field: 'inspectorId' });
  await withTransaction(pool, async (trx) => {
    const report = await lockReportForUpdate(trx, id);
    if (!report) throw new AppError('REPORT_NOT_FOUND');
    if (report.status !== 'awaiting_review' && report.status !== 'in_review')
      throw new AppError('REVIEW_NOT_OPEN');
    const expiresAt = leaseUntil(config);
    await move(trx, report, {
      toStatus: 'in_review',
      eventType: 'reassigned',
      actor: actorOf(supervisorId),
      data: { from: report.lease_owner, to: inspectorId, leaseExpiresAt: expiresAt.toISOString() },
      patch: { leaseOwner: inspectorId, leaseExpiresAt: expiresAt },
    });
    await audit(trx, {
      ...ctx,
      actorId: supervisorId,
      action: 'review_reassigned',
      targetKind: 'report',
      targetId: id,
      detail: { from: report.lease_owner, to: inspectorId },
    });
  });
}

/** What the console shows of one report: the report, its files with what was read from them, related reports. */
export async function loadReviewCase(
  db: Queryable,
  id: string,
): Promise<{ report: ReportRow; files: EvidenceFileFacts[]; related: RelatedReport[] }> {
  const report = await findReport(db, id);
  if (!report) throw new AppError('REPORT_NOT_FOUND');
  const [files, related] = await Promise.all([evidenceFilesOf(db, id), relatedReports(db, report)]);
  return { report, files, related };
}
