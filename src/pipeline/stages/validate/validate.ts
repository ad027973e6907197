import type { BoundariesCache } from '../../../geo/boundaries-cache.js';
import type { GeoIndex } from '../../../geo/geo-index.js';
import type { Config } from '../../../platform/config/config.js';
import { matchPlate } from '../../../reference/plates.js';
import type { ReferenceData } from '../../../reference/reference.js';
import type { RejectionReason } from '../../../reports/reasons.js';
import { type EvidenceRef, evidenceOfReports, type ReportRow } from '../../../reports/reports.repository.js';
import { sweepJob } from '../../jobs.js';
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
  failures.push(...checkMedia(evidence));
  const refused = evidence.filter((e) => !ctx.allowedKinds.has(e.kind));
  if (refused.length)
    failures.push({
      code: 'EVIDENCE_KIND_NOT_ALLOWED',
      detail: { kinds: [...new Set(refused.map((e) => e.kind))] },
    });
  return failures;
}

/** Minimums and maximums for evidence (E-Jarima's published rules). Either orientation counts. */
export const MEDIA_RULES = {
  photo: { long: 640, short: 480 },
  video: { long: 720, short: 480, maxMs: 120_000 },
};

/** Media facts read at upload: readable, big enough, short enough. One failure per rule, with the offending files. */
export function checkMedia(evidence: EvidenceRef[]): Failure[] {
  const failures: Failure[] = [];
  const unreadable = evidence.filter((e) => !e.readable);
  if (unreadable.length) {
    failures.push({
      code: 'EVIDENCE_UNREADABLE',
      detail: { evidence: unreadable.map((e) => ({ id: e.id, problem: e.problem })) },
    });
  }
  const small = (e: EvidenceRef, min: { long: number; short: number }) =>
    Math.max(e.width ?? 0, e.height ?? 0) < min.long || Math.min(e.width ?? 0, e.height ?? 0) < min.short;
  const readable = evidence.filter((e) => e.readable);
  const smallPhotos = readable.filter((e) => e.kind === 'photo' && small(e, MEDIA_RULES.photo));
  if (smallPhotos.length)
    failures.push({ code: 'PHOTO_TOO_SMALL', detail: { evidence: smallPhotos.map(sizeOf) } });
  const smallVideos = readable.filter((e) => e.kind === 'video' && small(e, MEDIA_RULES.video));
  if (smallVideos.length)
    failures.push({ code: 'VIDEO_TOO_SMALL', detail: { evidence: smallVideos.map(sizeOf) } });
  const long = readable.filter((e) => e.kind === 'video' && (e.duration_ms ?? 0) > MEDIA_RULES.video.maxMs);
  if (long.length)
    failures.push({
      code: 'VIDEO_TOO_LONG',
      detail: { evidence: long.map((e) => ({ id: e.id, durationMs: e.duration_ms })) },
    });
  return failures;
}

const sizeOf = (e: EvidenceRef) => ({ id: e.id, width: e.width, height: e.height });

/** received → rejected (first failure's reason, all failures in the event) or → validated. */
export function validateStage(
  deps: Omit<ValidateContext, 'allowedKinds' | 'geo'> & { boundaries: BoundariesCache },
): ReportStage {
  return {
    from: ['received'],
    async decide(reports, db) {
      const ctx: ValidateContext = {
        ...deps,
        geo: await deps.boundaries.fresh(db),
        allowedKinds: ALLOWED_KINDS,
      };
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
        return {
          toStatus: 'validated',
          eventType: 'validated',
          data: { plateFormat: matchPlate(report.plate)?.format },
          next: [sweepJob('dedupe')],
        };
      });
    },
  };
}

const ALLOWED_KINDS: ReadonlySet<EvidenceRef['kind']> = new Set(['photo', 'video']);
