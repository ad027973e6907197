import { type AuditRow, toAuditItem } from '../audit/audit.repository.js';
import type { ReferenceData } from '../reference/reference.js';
import { REVIEW_REJECTION_REASONS } from '../reports/reasons.js';
import type { EvidenceRef, ReportRow } from '../reports/reports.repository.js';
import { toView } from '../reports/reports.view.js';
import type {
  EvidenceFileFacts,
  EvidenceViewRow,
  InspectorWorkload,
  QueueCounts,
  RelatedReport,
  SlaBreach,
} from './review.repository.js';
import type { AuditResponse, Lease, QueueItem, ReviewDetail, WorkloadResponse } from './review.schema.js';

/** Where the console reads an evidence file: the original (Range supported), its thumbnail or its poster frame. */
export const evidenceUrl = (reportId: string, evidenceId: string, variant: string) =>
  `/v1/review/${reportId}/evidence/${evidenceId}${variant === 'original' ? '' : `?variant=${variant}`}`;

/** Who holds the report under a live lease, and whether it is the asking inspector. */
export function leaseOf(r: ReportRow, me: string): Lease {
  const live =
    r.status === 'in_review' && r.lease_owner && r.lease_expires_at && r.lease_expires_at >= new Date();
  return live
    ? {
        inspectorId: r.lease_owner!,
        mine: r.lease_owner === me,
        expiresAt: r.lease_expires_at!.toISOString(),
      }
    : null;
}

/** One line of the queue: enough to choose a report, with its first picture's thumbnail. */
export function toQueueItem(
  r: ReportRow,
  reference: ReferenceData,
  first: EvidenceRef | undefined,
  me: string,
  now: number,
): QueueItem {
  return {
    id: r.id,
    status: r.status as 'awaiting_review' | 'in_review',
    violation: {
      code: r.violation_code,
      name: reference.violationType(r.violation_code)?.name ?? {
        en: r.violation_code,
        uz: null,
        ru: null,
      },
    },
    plate: r.plate,
    regionId: r.region_id,
    districtId: r.district_id,
    priority: r.priority ?? 0,
    slaDueAt: r.sla_due_at?.toISOString() ?? null,
    reviewDueAt: r.review_due_at?.toISOString() ?? null,
    overdue: [r.sla_due_at, r.review_due_at].some((d) => d !== null && d.getTime() < now),
    lease: leaseOf(r, me),
    findings: r.findings.map((f) => f.type),
    thumbnailUrl: first ? evidenceUrl(r.id, first.id, 'thumbnail') : null,
    receivedAt: r.received_at.toISOString(),
  };
}

/** A report as the inspector sees it: the staff view, the lease, every file with what was read from it. */
export function toReviewDetail(
  c: { report: ReportRow; files: EvidenceFileFacts[]; related: RelatedReport[] },
  reference: ReferenceData,
  me: string,
): ReviewDetail {
  const { report, files, related } = c;
  const id = report.id;
  return {
    report: toView(report, reference, files, true),
    lease: leaseOf(report, me),
    evidence: files.map((e) => ({
      id: e.id,
      kind: e.kind,
      mime: e.mime,
      bytes: e.bytes,
      width: e.width,
      height: e.height,
      durationMs: e.duration_ms,
      cameraTime: e.taken_at?.toISOString() ?? null,
      cameraGps: e.gps_lat !== null && e.gps_lon !== null ? { lat: e.gps_lat, lon: e.gps_lon } : null,
      camera: e.camera,
      sharpness: e.sharpness,
      brightness: e.brightness,
      urls: {
        original: evidenceUrl(id, e.id, 'original'),
        thumbnail: e.thumb_sha256 ? evidenceUrl(id, e.id, 'thumbnail') : null,
        poster: e.poster_sha256 ? evidenceUrl(id, e.id, 'poster') : null,
      },
      redactions: e.redactions,
    })),
    related,
    rejectionReasons: [...REVIEW_REJECTION_REASONS],
  };
}

export function toWorkload(
  people: InspectorWorkload[],
  breaches: SlaBreach[],
  counts: QueueCounts,
): WorkloadResponse {
  return {
    inspectors: people.map((p) => ({
      id: p.staff_id,
      login: p.login,
      displayName: p.display_name,
      role: p.role,
      holding: p.holding,
      decided24h: { approve: p.approved_24h, reject: p.rejected_24h, needsInfo: p.needs_info_24h },
    })),
    queue: { waiting: counts.waiting, inReview: counts.in_review, overdue: counts.overdue },
    slaBreaches: breaches.map((b) => ({
      reportId: b.id,
      status: b.status,
      kind: b.kind,
      dueAt: b.due.toISOString(),
    })),
  };
}

export function toAudit(views: EvidenceViewRow[], entries: AuditRow[] = []): AuditResponse {
  return {
    entries: entries.map(toAuditItem),
    views: views.map((v) => ({
      staffId: v.staff_id,
      login: v.login,
      evidenceId: v.evidence_id,
      variant: v.variant,
      at: v.at.toISOString(),
    })),
  };
}
