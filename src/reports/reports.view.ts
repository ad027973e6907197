import type { ReferenceData } from '../reference/reference.js';
import type { StoredEvent } from './events.js';
import { REJECTION_REASONS, type RejectionReason } from './reasons.js';
import type { ReportRow } from './reports.repository.js';
import type { EventView, ReportView } from './reports.schema.js';
import { PIPELINE_WAITING } from './status.js';

/** Where a report and its timeline are read. */
export const reportLinks = (id: string) => ({
  self: `/v1/reports/${id}`,
  events: `/v1/reports/${id}/events`,
});

/**
 * A report as the API shows it (the citizen's reports, the status poll, the inspector's console). `forStaff` adds
 * what the automated stages found; the reporter's identity is never part of it.
 */
export function toView(
  r: ReportRow,
  reference: ReferenceData,
  evidence: { id: string; kind: string; mime: string; bytes: number }[],
  forStaff = false,
): ReportView {
  const type = reference.violationType(r.violation_code);
  const reason = r.reason_code ? REJECTION_REASONS[r.reason_code as RejectionReason] : undefined;
  return {
    id: r.id,
    status: r.status,
    violation: { code: r.violation_code, name: type?.name ?? { en: r.violation_code, uz: null, ru: null } },
    plate: r.plate,
    location: { lat: r.lat, lon: r.lon },
    incidentAt: r.incident_at.toISOString(),
    receivedAt: r.received_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    description: r.description,
    rejection: r.reason_code
      ? { code: r.reason_code, reason: reason ?? { uz: r.reason_code, ru: r.reason_code, en: r.reason_code } }
      : null,
    fine: reference.fineFor(r.violation_code, r.incident_at),
    evidence,
    question: r.status === 'needs_info' ? r.review_note : null,
    changeable: changeable(r),
    version: r.version,
    links: reportLinks(r.id),
    ...(forStaff
      ? {
          review: {
            priority: r.priority,
            findings: r.findings,
            duplicateOf: r.duplicate_of,
            slaDueAt: r.sla_due_at?.toISOString() ?? null,
            plateRegionCode: r.plate_region_code,
            regionId: r.region_id,
            districtId: r.district_id,
          },
        }
      : {}),
  };
}

/**
 * Whether its citizen may still withdraw or correct it: before review starts — still being checked, or waiting in
 * the queue unclaimed and never decided on (a report back from needs_info is answered, not corrected).
 */
export function changeable(r: Pick<ReportRow, 'status' | 'lease_owner' | 'review_decision'>): boolean {
  if (PIPELINE_WAITING.includes(r.status)) return true;
  return r.status === 'awaiting_review' && r.lease_owner === null && r.review_decision === null;
}

/** One timeline event as stored: its real actor and all its data (the staff view; citizens get `toCitizenEventView`). */
export function toEventView(e: StoredEvent): EventView {
  return {
    seq: e.seq,
    type: e.type,
    fromStatus: e.fromStatus,
    toStatus: e.toStatus,
    actor: e.actor,
    at: e.at.toISOString(),
    data: e.data,
    hash: e.hash.toString('hex'),
  };
}

/**
 * What of each event type's data its citizen may read. Everything else — which staff member held, lost or was given
 * the lease (`lapsedLeaseOf`, `leaseOwner`, `from`/`to`), the reporter's trust score, the queue priority — is for
 * staff only, and so is the data of an event type missing here. Every event type the code writes has an entry
 * (src/reports/citizen-view.test.ts reads them from the source).
 */
export const CITIZEN_EVENT_DATA: Record<string, readonly string[]> = {
  submitted: ['evidenceCount'],
  validated: ['plateFormat'],
  validation_failed: ['reasonCode', 'failures'],
  deduplicated: [],
  duplicate_found: ['duplicateOf', 'reason', 'distanceM', 'minutesApart'],
  enriched: ['region', 'district', 'plateRegion', 'fine', 'slaDueAt'],
  analyzed: ['findings'],
  claimed: ['leaseExpiresAt'],
  lease_expired: [],
  released: [],
  reassigned: ['leaseExpiresAt'],
  reviewed: ['decision', 'note', 'reasonCode'],
  forwarded: ['caseNumber', 'alreadyKnown'],
  // The error text is internal (a stage's exception): staff see it in the console and the dead letters.
  stage_failed: ['stage', 'from'],
  requeued: [],
  discarded: [],
  fined: ['caseNumber', 'amountSum', 'eventId'],
  paid: ['caseNumber', 'amountSum', 'rewardSum', 'eventId'],
  rewarded: ['rewardSum', 'reference'],
  // The citizen's follow-up (src/reports/follow-up.service.ts): their own words and changes, back to them.
  answered: ['text', 'evidenceCount'],
  info_expired: ['reasonCode', 'waitedHours'],
  withdrawn: [],
  corrected: ['changes'],
  // An appeal's outcome (src/appeals/appeal-effects.ts): what became of the fine and of the reward, never the driver
  // nor the appeal.
  overturned: ['reward'],
  appeal_upheld: [],
  appeal_corrected: ['violationCode'],
};

/** Actors that name a staff member (`staff:<id>`, `admin:<id>`), as a citizen sees them: the role, not the person. */
const CITIZEN_ACTOR: Record<string, string> = { staff: 'inspector', admin: 'administrator' };

/** A timeline event as its citizen sees it: that an inspector acted, not which one, and no staff-only data. */
export function toCitizenEventView(e: EventView): EventView {
  const [kind, who] = e.actor.split(':', 2);
  const actor = who && kind && CITIZEN_ACTOR[kind] ? CITIZEN_ACTOR[kind] : e.actor;
  const keys = CITIZEN_EVENT_DATA[e.type] ?? [];
  const data = Object.fromEntries(Object.entries(e.data).filter(([k]) => keys.includes(k)));
  return { ...e, actor, data };
}
