import { analyzeAndStore, unanalyzedEvidence } from '../../../evidence/analysis.js';
import type { BlobStore } from '../../../evidence/blob-store.js';
import type { Media } from '../../../evidence/media.js';
import { pictureWarnings } from '../../../evidence/quality.js';
import { distanceMeters } from '../../../geo/distance.js';
import type { Config } from '../../../platform/config/config.js';
import type { Queryable } from '../../../platform/db/pool.js';
import { idFloor } from '../../../platform/ids.js';
import type { ReportRow } from '../../../reports/reports.repository.js';
import type { Finding } from '../../../reports/reports.schema.js';
import type { Decision, ReportStage } from '../../runner.js';

export type AnalyzeConfig = Pick<
  Config,
  | 'ANALYZE_TIME_TOLERANCE_MINUTES'
  | 'ANALYZE_DISTANCE_TOLERANCE_METERS'
  | 'PHASH_MAX_DISTANCE'
  | 'NEAR_IDENTICAL_METERS'
  | 'NEAR_IDENTICAL_MINUTES'
  | 'NEAR_IDENTICAL_OWN_DAYS'
  | 'FORWARD_DEADLINE_HOURS'
  | 'REVIEW_SLA_HOURS'
>;

interface EvidenceFacts {
  report_id: string;
  id: string;
  kind: 'photo' | 'video';
  width: number | null;
  height: number | null;
  taken_at: Date | null;
  gps_lat: number | null;
  gps_lon: number | null;
  sharpness: number | null;
  brightness: number | null;
  phash: string | null;
  analyzed_at: Date | null;
  problem: string | null;
}

const ANALYZE_PARALLEL = 4;

/**
 * enriched → awaiting_review with findings and a priority. The slow part — poster frames, thumbnails, sharpness,
 * brightness, perceptual hashes — runs in `prepare`, once per distinct file, stored on the evidence; `decide` only
 * compares: camera time and GPS against the claim, picture quality, near-identical images in other reports.
 */
export function analyzeStage(deps: { blobs: BlobStore; media: Media; config: AnalyzeConfig }): ReportStage {
  const { config } = deps;
  const prepare = async (reports: ReportRow[], db: Queryable) => {
    const todo = await unanalyzedEvidence(
      db,
      reports.map((r) => r.id),
    );
    // Image work runs on libuv's threads: a few files at once keep both cores busy while this thread waits.
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(ANALYZE_PARALLEL, todo.length) }, async () => {
        while (next < todo.length) await analyzeAndStore(db, deps.media, deps.blobs, todo[next++]!);
      }),
    );
  };
  return {
    from: ['enriched'],
    prepare,
    // Most evidence was analysed at upload: only reports with leftovers are leased and prepared outside the claim.
    needsPreparing: (reports, db) =>
      withUnanalyzedEvidence(
        db,
        reports.map((r) => r.id),
      ),
    async decide(reports, db) {
      const evidence = await evidenceFacts(
        db,
        reports.map((r) => r.id),
      );
      const similar = await nearIdentical(db, reports, evidence, config);
      return reports.map((r): Decision => {
        const mine = evidence.filter((e) => e.report_id === r.id);
        const findings = [
          ...compareWithClaim(r, mine, config),
          ...quality(mine),
          ...(similar.get(r.id) ?? []),
        ];
        const priority = priorityOf(r, mine, findings, config);
        return {
          toStatus: 'awaiting_review',
          eventType: 'analyzed',
          data: { findings: findings.map((f) => f.type), priority },
          patch: { findings, priority },
          reviewSlaHours: config.REVIEW_SLA_HOURS,
        };
      });
    },
  };
}

/** The reports with evidence still to analyse (as unanalyzedEvidence finds it). */
async function withUnanalyzedEvidence(db: Queryable, reportIds: string[]): Promise<string[]> {
  const { rows } = await db.query<{ report_id: string }>(
    `select distinct re.report_id
       from report_evidence re join evidence e on e.id = re.evidence_id
      where re.report_id = any($1::uuid[]) and e.analyzed_at is null and e.readable`,
    [reportIds],
  );
  return rows.map((r) => r.report_id);
}

async function evidenceFacts(db: Queryable, reportIds: string[]): Promise<EvidenceFacts[]> {
  const { rows } = await db.query<EvidenceFacts>(
    `select re.report_id, e.id, e.kind, e.width, e.height, e.taken_at, e.gps_lat, e.gps_lon, e.sharpness, e.brightness, e.phash,
            e.analyzed_at, e.problem
       from report_evidence re join evidence e on e.id = re.evidence_id
      where re.report_id = any($1::uuid[]) order by re.report_id, re.position`,
    [reportIds],
  );
  return rows;
}

/** Camera time and GPS against the citizen's claim. */
export function compareWithClaim(r: ReportRow, evidence: EvidenceFacts[], config: AnalyzeConfig): Finding[] {
  const findings: Finding[] = [];
  const timed = evidence.filter((e) => e.taken_at);
  for (const e of timed) {
    const minutes = Math.abs(e.taken_at!.getTime() - r.incident_at.getTime()) / 60_000;
    if (minutes > config.ANALYZE_TIME_TOLERANCE_MINUTES) {
      findings.push({
        type: 'time_mismatch',
        severity: 'warning',
        evidenceId: e.id,
        detail: { minutes: Math.round(minutes), cameraTime: e.taken_at!.toISOString() },
      });
    }
  }
  if (evidence.length && timed.length === 0) findings.push({ type: 'no_camera_time', severity: 'info' });
  for (const e of evidence.filter((x) => x.gps_lat !== null && x.gps_lon !== null)) {
    const meters = distanceMeters(r.lat, r.lon, e.gps_lat!, e.gps_lon!);
    if (meters > config.ANALYZE_DISTANCE_TOLERANCE_METERS) {
      findings.push({
        type: 'place_mismatch',
        severity: 'warning',
        evidenceId: e.id,
        detail: { meters: Math.round(meters) },
      });
    }
  }
  return findings;
}

/**
 * The picture measures' warnings, and evidence whose picture could not be made at all: a decode killed at its
 * time or memory limit, or a file the decoder refused after the probe accepted it. The inspector sees the reason.
 */
function quality(evidence: EvidenceFacts[]): Finding[] {
  return evidence.flatMap((e): Finding[] =>
    e.analyzed_at && e.sharpness === null && e.problem
      ? [
          {
            type: 'evidence_unreadable',
            severity: 'warning',
            evidenceId: e.id,
            detail: { reason: e.problem },
          },
        ]
      : pictureWarnings(e).map(
          (w): Finding => ({ type: w.type, severity: w.severity, evidenceId: e.id, detail: w.detail }),
        ),
  );
}

/**
 * Images within PHASH_MAX_DISTANCE bits of an image in another report: flagged for the inspector, never
 * auto-rejected — two honest witnesses can photograph the same car. Looked for where a copy is plausible and the
 * search stays small: other citizens' reports about the same incident (claimed within NEAR_IDENTICAL_METERS and
 * NEAR_IDENTICAL_MINUTES), and the citizen's own reports of the last NEAR_IDENTICAL_OWN_DAYS wherever claimed (one
 * picture filed again for another time or place). A window of ~1 km and a day compared each report with every
 * report in it: ~900 in the autoscale bench's 10 × 10 km square, most of PostgreSQL's 5.5 ms per report there
 * (measured 2026-11-28, bench/README.md design decisions).
 */
async function nearIdentical(
  db: Queryable,
  reports: ReportRow[],
  evidence: EvidenceFacts[],
  config: AnalyzeConfig,
): Promise<Map<string, Finding[]>> {
  const out = new Map<string, Finding[]>();
  const hashed = evidence.filter((e) => e.phash);
  if (!hashed.length) return out;
  const byId = new Map(reports.map((r) => [r.id, r]));
  const report = (e: EvidenceFacts) => byId.get(e.report_id)!;
  const days = config.NEAR_IDENTICAL_OWN_DAYS;
  // The citizen's reports filed since then; with no own window, a floor past every id there is.
  const ownSince = idFloor(days > 0 ? Date.now() - days * 86_400_000 : Date.now() + 86_400_000);
  // Distances are computed in PostgreSQL (bit_count of the XOR) so only matches come back (bench/README.md). The
  // place is a box around the claim (index reports_place_time), the citizen's own reports a range of their
  // time-ordered ids (index reports_citizen_id).
  const { rows } = await db.query<{
    report_id: string;
    evidence_id: string;
    other_report: string;
    distance: number;
  }>(
    `with m as (
       select u.*, u.phash::bit(64) as bits, $8::float8 / 111320 as dlat,
              $8::float8 / (111320 * greatest(cos(radians(u.lat)), 0.01)) as dlon
         from unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::float8[], $6::float8[], $7::uuid[])
                as u(report_id, evidence_id, phash, incident_at, lat, lon, citizen_id)),
     candidates as (
       select m.report_id, m.evidence_id, m.bits, o.id as other
         from m join reports o
           on point(o.lon, o.lat) <@ box(point(m.lon - m.dlon, m.lat - m.dlat), point(m.lon + m.dlon, m.lat + m.dlat))
          and o.incident_at between m.incident_at - $9::interval and m.incident_at + $9::interval
          and o.id <> m.report_id
       union
       select m.report_id, m.evidence_id, m.bits, o.id
         from m join reports o on o.citizen_id = m.citizen_id and o.id >= $10::uuid and o.id <> m.report_id)
     select distinct on (c.report_id, c.other) c.report_id, c.evidence_id, c.other as other_report,
            bit_count(e.phash_bits # c.bits)::int as distance
       from candidates c
       join report_evidence oe on oe.report_id = c.other
       join evidence e on e.id = oe.evidence_id and e.id <> c.evidence_id
      where bit_count(e.phash_bits # c.bits) <= $11
      order by c.report_id, c.other, distance`,
    [
      hashed.map((e) => e.report_id),
      hashed.map((e) => e.id),
      hashed.map((e) => e.phash),
      hashed.map((e) => report(e).incident_at),
      hashed.map((e) => report(e).lat),
      hashed.map((e) => report(e).lon),
      hashed.map((e) => report(e).citizen_id),
      config.NEAR_IDENTICAL_METERS,
      `${config.NEAR_IDENTICAL_MINUTES} minutes`,
      ownSince,
      config.PHASH_MAX_DISTANCE,
    ],
  );
  for (const m of rows) {
    const list = out.get(m.report_id) ?? [];
    list.push({
      type: 'near_identical',
      severity: 'warning',
      evidenceId: m.evidence_id,
      detail: { otherReportId: m.other_report, distance: m.distance },
    });
    out.set(m.report_id, list);
  }
  return out;
}

/**
 * 0–100, higher first in the review queue: the violation's weight (its fine in BHM, log-scaled: 0.5 → low,
 * 50 → top), the evidence's usefulness (warnings cost), the reporter's trust, and urgency (the less time left
 * before the forwarding deadline, the higher).
 */
export function priorityOf(
  r: ReportRow,
  evidence: EvidenceFacts[],
  findings: Finding[],
  config: AnalyzeConfig,
): number {
  const bhm = r.fine_bhm_max ?? r.fine_bhm_min ?? 1;
  const severity = Math.min(1, Math.log1p(bhm) / Math.log1p(50));
  const warnings = findings.filter((f) => f.severity === 'warning').length;
  const usefulness = evidence.length ? Math.max(0, 1 - 0.25 * warnings) : 0;
  const trust = r.reporter_trust ?? 0.5;
  const due = r.sla_due_at ?? new Date(r.incident_at.getTime() + config.FORWARD_DEADLINE_HOURS * 3600_000);
  const hoursLeft = (due.getTime() - Date.now()) / 3600_000;
  const urgency = 1 - Math.min(1, Math.max(0, hoursLeft / config.FORWARD_DEADLINE_HOURS));
  return Math.round(100 * (0.35 * severity + 0.2 * usefulness + 0.25 * trust + 0.2 * urgency));
}
