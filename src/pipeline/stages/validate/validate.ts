import type { Config } from '../../../app/config.js';
import type { GeoIndex } from '../../../geo/geo-index.js';
import { matchPlate } from '../../../reference/plates.js';
import type { ReferenceData } from '../../../reference/reference.js';
import type { RejectionReason } from '../../../reports/reasons.js';
import { type EvidenceRef, evidenceOfReports, type ReportRow } from '../../../reports/reports.repository.js';
import type { Decision, ReportStage } from '../../runner.js';

export interface Failure {
  code: RejectionReason;
  detail?: Record<string, unknown>;
}

export interface ValidateContext {
  reference: ReferenceData;
  geo: GeoIndex;
  config: Pick<Config, 'FILING_WINDOW_HOURS' | 'FUTURE_SKEW_SECONDS'>;
  allowedKinds: ReadonlySet<EvidenceRef['kind']>;
}

/**
 * The rules a report must meet before anyone spends time on it. Pure: every failure is listed, in the order a
 * citizen should fix them. Time rules are judged against when we received the report, not when a (possibly
 * backlogged) worker gets to it.
 */
export function checkReport(report: ReportRow, evidence: EvidenceRef[], ctx: ValidateContext): Failure[] {
  const failures: Failure[] = [];
  const type = ctx.reference.violationType(report.violation_code);
  if (!type) failures.push({ code: 'VIOLATION_TYPE_UNKNOWN', detail: { code: report.violation_code } });
  else if (!type.active)
    failures.push({ code: 'VIOLATION_TYPE_INACTIVE', detail: { code: report.violation_code } });

  const received = report.received_at.getTime();
  const incident = report.incident_at.getTime();
  if (incident > received + ctx.config.FUTURE_SKEW_SECONDS * 1000) {
    failures.push({ code: 'INCIDENT_IN_FUTURE', detail: { incidentAt: report.incident_at.toISOString() } });
  } else if (received - incident > ctx.config.FILING_WINDOW_HOURS * 3600 * 1000) {
    failures.push({ code: 'FILED_TOO_LATE', detail: { windowHours: ctx.config.FILING_WINDOW_HOURS } });
  }

  if (!ctx.geo.insideCountry(report.lat, report.lon)) {
    failures.push({ code: 'OUTSIDE_COUNTRY', detail: { lat: report.lat, lon: report.lon } });
  }
  if (!matchPlate(report.plate))
    failures.push({ code: 'PLATE_FORMAT_UNKNOWN', detail: { plate: report.plate } });

  if (evidence.length === 0) failures.push({ code: 'EVIDENCE_MISSING' });
  const refused = evidence.filter((e) => !ctx.allowedKinds.has(e.kind));
  if (refused.length)
    failures.push({
      code: 'EVIDENCE_KIND_NOT_ALLOWED',
      detail: { kinds: [...new Set(refused.map((e) => e.kind))] },
    });
  return failures;
}

/** received → rejected (first failure's reason, all failures in the event) or → awaiting_review. */
export function validateStage(deps: Omit<ValidateContext, 'allowedKinds'>): ReportStage {
  const ctx: ValidateContext = { ...deps, allowedKinds: new Set(['photo', 'video']) };
  return {
    from: ['received'],
    async decide(reports, db) {
      const evidence = await evidenceOfReports(
        db,
        reports.map((r) => r.id),
      );
      return reports.map((report): Decision => {
        const failures = checkReport(report, evidence.get(report.id) ?? [], ctx);
        if (failures.length) {
          return {
            toStatus: 'rejected',
            eventType: 'validation_failed',
            data: { reasonCode: failures[0]!.code, failures },
            patch: { reasonCode: failures[0]!.code },
          };
        }
        const place = ctx.geo.locate(report.lat, report.lon);
        return {
          toStatus: 'awaiting_review',
          eventType: 'validated',
          data: {
            region: place.region?.name ?? null,
            district: place.district?.name ?? null,
            plateFormat: matchPlate(report.plate)?.format,
          },
          patch: { regionId: place.region?.id ?? null, districtId: place.district?.id ?? null },
        };
      });
    },
  };
}
