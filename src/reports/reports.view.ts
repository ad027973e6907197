import type { ReferenceData } from '../reference/reference.js';
import type { StoredEvent } from './events.js';
import { REJECTION_REASONS, type RejectionReason } from './reasons.js';
import type { ReportRow } from './reports.repository.js';
import type { EventView, ReportView } from './reports.schema.js';

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

/** One timeline event with its real actor (a citizen's view hides which inspector it was). */
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
