import { notificationEventOf, queueNotifications } from '../notifications/queue.js';
import { handoffNeedsJob } from '../pipeline/duty.js';
import { enqueueJobs, type JobSpec, sweepJob } from '../pipeline/jobs.js';
import { noteChanges, type Queryable } from '../platform/db/pool.js';
import { addToRollups } from '../stats/rollup.js';
import { eventColumns, eventHash, INSERT_EVENTS_SQL, type ReportEvent } from './events.js';
import { announceChanges } from './reports.cache.js';
import type { ReportRow } from './reports.repository.js';
import type { ReportStatus } from './status.js';

/** Report columns a transition may set besides its status: name in code → column. Values are always parameters. */
const PATCHABLE = {
  reasonCode: 'reason_code',
  regionId: 'region_id',
  districtId: 'district_id',
  unitId: 'unit_id',
  duplicateOf: 'duplicate_of',
  plateRegionCode: 'plate_region_code',
  fineBhmMin: 'fine_bhm_min',
  fineBhmMax: 'fine_bhm_max',
  bhmRate: 'bhm_rate',
  fineSumMin: 'fine_sum_min',
  fineSumMax: 'fine_sum_max',
  slaDueAt: 'sla_due_at',
  reporterTrust: 'reporter_trust',
  findings: 'findings',
  priority: 'priority',
  leaseOwner: 'lease_owner',
  leaseExpiresAt: 'lease_expires_at',
  reviewedBy: 'reviewed_by',
  decidedAt: 'decided_at',
  reviewDecision: 'review_decision',
  reviewNote: 'review_note',
  approvedAt: 'approved_at',
  forwardDueAt: 'forward_due_at',
  forwardedAt: 'forwarded_at',
  caseNumber: 'case_number',
  fineAmountSum: 'fine_amount_sum',
  finedAt: 'fined_at',
  paidAt: 'paid_at',
  rewardSum: 'reward_sum',
  rewardedAt: 'rewarded_at',
} as const;
const PATCH_COLUMNS = Object.values(PATCHABLE).join(', ');

/** A field left undefined keeps its column; null clears it. */
export type ReportPatch = { [K in keyof typeof PATCHABLE]?: string | number | Date | unknown[] | null };

function patchJson(patch: ReportPatch | undefined): string {
  const out: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(PATCHABLE)) {
    const v = patch?.[key as keyof ReportPatch];
    if (v !== undefined) out[column] = v;
  }
  return JSON.stringify(out);
}

export interface Transition {
  toStatus: ReportStatus;
  eventType: string;
  actor: string;
  data?: Record<string, unknown>;
  patch?: ReportPatch;
  /** Jobs to enqueue in the same transaction. */
  next?: JobSpec[];
  /**
   * On entering awaiting_review for the first time, the review deadline (review_due_at) is this many hours after
   * reviewable_at. A report re-entering the queue keeps its first reviewable_at and deadline.
   */
  reviewSlaHours?: number;
}

/**
 * Moves reports from the state they were read in to the next, inside the caller's transaction, with a fixed
 * number of statements however many there are: the report rows (each guarded by the version it was read at, so a
 * concurrent or repeated transition changes nothing), one hash-chained event per report that moved, the citizen's
 * notifications for the changes they are told about, the statistics roll-ups, and the next jobs — all or none. Returns the ids that moved; a report missing from it had already moved on.
 */
export async function applyTransitions(
  trx: Queryable,
  items: { report: ReportRow; t: Transition }[],
): Promise<Set<string>> {
  if (items.length === 0) return new Set();
  const at = new Date();
  const events = items.map(({ report, t }) => {
    const e: ReportEvent = {
      reportId: report.id,
      seq: report.version + 1,
      type: t.eventType,
      fromStatus: report.status,
      toStatus: t.toStatus,
      actor: t.actor,
      data: t.data ?? {},
      at,
    };
    return { ...e, prevHash: report.last_event_hash, hash: eventHash(report.last_event_hash, e) };
  });
  // jsonb_populate_record(r, patch) is the row with the patch's columns replaced: absent keys keep their value.
  const { rows } = await trx.query<{ id: string }>(
    `update reports r set
        status = v.status, version = r.version + 1, last_event_hash = v.hash, updated_at = $6,
        (${PATCH_COLUMNS}) = (select ${PATCH_COLUMNS} from jsonb_populate_record(r, v.patch)),
        reviewable_at = coalesce(r.reviewable_at, case when v.status = 'awaiting_review' then $6::timestamptz end),
        review_due_at = coalesce(r.review_due_at, case when v.status = 'awaiting_review'
          then coalesce(r.reviewable_at, $6::timestamptz) + make_interval(hours => v.sla_hours) end)
       from unnest($1::uuid[], $2::int[], $3::text[], $4::bytea[], $5::jsonb[], $7::int[])
         as v(id, version, status, hash, patch, sla_hours)
      where r.id = v.id and r.version = v.version
      returning r.id`,
    [
      items.map(({ report }) => report.id),
      items.map(({ report }) => report.version),
      items.map(({ t }) => t.toStatus),
      events.map((e) => e.hash),
      items.map(({ t }) => patchJson(t.patch)),
      at,
      items.map(({ t }) => t.reviewSlaHours ?? null),
    ],
  );
  const moved = new Set(rows.map((r) => r.id));
  const movedEvents = events.filter((e) => moved.has(e.reportId));
  if (movedEvents.length) await trx.query(INSERT_EVENTS_SQL, eventColumns(movedEvents));
  const movedItems = items.filter(({ report }) => moved.has(report.id));
  const told = movedItems.flatMap(({ report, t }) => {
    const event = notificationEventOf(report.status, t.toStatus);
    return event ? [{ reportId: report.id, event }] : [];
  });
  const outbound = await queueNotifications(trx, told);
  await addToRollups(
    trx,
    movedItems.map(({ report, t }) => ({
      report,
      from: report.status,
      to: t.toStatus,
      regionId: t.patch?.regionId as number | null | undefined,
      districtId: t.patch?.districtId as number | null | undefined,
      amountSum: t.patch?.fineAmountSum as number | null | undefined,
    })),
  );
  const jobs = distinctJobs([
    ...movedItems.flatMap(({ t }) => t.next ?? []),
    ...(outbound ? [sweepJob('notify')] : []),
  ]);
  // A plain sweep of a stage whose sweep is on duty is not needed: that sweep claims these reports (duty.ts).
  const needed: JobSpec[] = [];
  for (const job of jobs)
    if (job.jobKey || job.runAt || (await handoffNeedsJob(trx, job.name))) needed.push(job);
  await enqueueJobs(trx, needed);
  // Cached views of these reports and their citizens' lists are dropped once this commits: in this process at
  // once (noteChanges), in every API process by NOTIFY.
  const entered: Record<string, number> = {};
  for (const { t } of movedItems) entered[t.toStatus] = (entered[t.toStatus] ?? 0) + 1;
  const changes = {
    reports: [...moved],
    citizens: movedItems.map(({ report }) => report.citizen_id),
    entered,
  };
  noteChanges(trx, changes);
  await announceChanges(trx, changes);
  return moved;
}

/** A batch moving 100 reports to the same next stage needs one sweep of it, not 100. */
function distinctJobs(specs: JobSpec[]): JobSpec[] {
  const seen = new Set<string>();
  return specs.filter((s) => {
    const key = `${s.name}\0${s.jobKey ?? ''}\0${JSON.stringify(s.payload)}\0${s.runAt?.getTime() ?? ''}`;
    return !seen.has(key) && seen.add(key);
  });
}
