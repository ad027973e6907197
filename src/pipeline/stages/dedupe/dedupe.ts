import { distanceMeters } from '../../../geo/distance.js';
import type { Config } from '../../../platform/config/config.js';
import type { Queryable } from '../../../platform/db/pool.js';
import type { ReportRow } from '../../../reports/reports.repository.js';
import { sweepJob } from '../../jobs.js';
import type { Decision, ReportStage } from '../../runner.js';

/** Earlier reports that are still alive (not rejected, withdrawn, nor themselves duplicates) can make a later one a duplicate. */
const ALIVE = `o.status not in ('rejected', 'duplicate', 'withdrawn')`;

interface Match {
  report_id: string;
  first: string;
}

/**
 * validated → duplicate (linked to the first report) or → deduplicated.
 * Same evidence bytes as an earlier live report, or the same plate and violation within DEDUPE_DISTANCE_METERS and
 * DEDUPE_WINDOW_MINUTES of one, is a duplicate. "Earlier" is submission order (time-ordered ids), so of two
 * near-simultaneous reports exactly one survives, whichever sweep sees them.
 */
export function dedupeStage(
  config: Pick<Config, 'DEDUPE_DISTANCE_METERS' | 'DEDUPE_WINDOW_MINUTES'>,
): ReportStage {
  return {
    from: ['validated'],
    async decide(reports, db) {
      const ids = reports.map((r) => r.id);
      const [sameEvidence, samePlate] = await Promise.all([
        evidenceMatches(db, ids),
        plateMatches(db, reports, config),
      ]);
      return reports.map((r): Decision => {
        const viaEvidence = sameEvidence.get(r.id);
        if (viaEvidence) return duplicate(viaEvidence, 'DUPLICATE_EVIDENCE', { reason: 'same_evidence' });
        const viaPlate = samePlate.get(r.id);
        if (viaPlate) {
          return duplicate(viaPlate.id, 'DUPLICATE_REPORT', {
            reason: 'same_plate_nearby',
            distanceM: Math.round(viaPlate.distance),
            minutesApart: Math.round(viaPlate.minutes * 10) / 10,
          });
        }
        return { toStatus: 'deduplicated', eventType: 'deduplicated', next: [sweepJob('enrich')] };
      });
    },
  };
}

function duplicate(first: string, reasonCode: string, data: Record<string, unknown>): Decision {
  return {
    toStatus: 'duplicate',
    eventType: 'duplicate_found',
    data: { duplicateOf: first, ...data },
    patch: { duplicateOf: first, reasonCode },
  };
}

async function evidenceMatches(db: Queryable, ids: string[]): Promise<Map<string, string>> {
  const { rows } = await db.query<Match>(
    `select distinct on (re.report_id) re.report_id, other.report_id as first
       from report_evidence re
       join report_evidence other on other.evidence_id = re.evidence_id and other.report_id < re.report_id
       join reports o on o.id = other.report_id and ${ALIVE}
      where re.report_id = any($1::uuid[])
      order by re.report_id, other.report_id`,
    [ids],
  );
  return new Map(rows.map((r) => [r.report_id, r.first]));
}

/** Earlier live reports of the same plate and type close in time: a named query (its index is tested). */
export const PLATE_MATCHES_SQL = `select r.id as report_id, o.id, o.lat, o.lon, o.incident_at
       from unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[]) as r(id, plate, violation_code, incident_at)
       join reports o on o.plate = r.plate and o.violation_code = r.violation_code
                     and o.incident_at between r.incident_at - make_interval(mins => $5) and r.incident_at + make_interval(mins => $5)
                     and o.id < r.id and ${ALIVE}
      order by o.id`;

/** Candidates by the (plate, violation_code, incident_at) index; the exact distance is checked here. */
async function plateMatches(
  db: Queryable,
  reports: ReportRow[],
  config: Pick<Config, 'DEDUPE_DISTANCE_METERS' | 'DEDUPE_WINDOW_MINUTES'>,
): Promise<Map<string, { id: string; distance: number; minutes: number }>> {
  const { rows } = await db.query<{
    report_id: string;
    id: string;
    lat: number;
    lon: number;
    incident_at: Date;
  }>(PLATE_MATCHES_SQL, [
    reports.map((r) => r.id),
    reports.map((r) => r.plate),
    reports.map((r) => r.violation_code),
    reports.map((r) => r.incident_at),
    config.DEDUPE_WINDOW_MINUTES,
  ]);
  const byId = new Map(reports.map((r) => [r.id, r]));
  const found = new Map<string, { id: string; distance: number; minutes: number }>();
  for (const o of rows) {
    if (found.has(o.report_id)) continue; // rows come oldest first: keep the first match
    const r = byId.get(o.report_id)!;
    const distance = distanceMeters(r.lat, r.lon, o.lat, o.lon);
    if (distance <= config.DEDUPE_DISTANCE_METERS) {
      found.set(o.report_id, {
        id: o.id,
        distance,
        minutes: Math.abs(r.incident_at.getTime() - o.incident_at.getTime()) / 60_000,
      });
    }
  }
  return found;
}
