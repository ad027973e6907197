import type { Queryable } from '../platform/db/pool.js';
import type { Region, SourceFile } from './driver-copy.js';

/**
 * The report a ruling number and plate name together, or null. One index probe (reports_ruling_number) whether the
 * number is unknown or the plate is wrong, so neither answer nor timing tells the two apart.
 */
export async function findCaseByRuling(
  db: Queryable,
  rulingNumber: string,
  plate: string,
): Promise<string | null> {
  const { rows } = await db.query<{ id: string }>(
    'select id from reports where ruling_number = $1 and plate = $2',
    [rulingNumber, plate],
  );
  return rows[0]?.id ?? null;
}

/** What the driver's case view is made of: the report's ruling-side columns only, never the reporter's. */
export interface CaseRow {
  id: string;
  ruling_number: string;
  plate: string;
  violation_code: string;
  incident_at: Date;
  lat: number;
  lon: number;
  status: string;
  fine_amount_sum: string | null;
  fined_at: Date | null;
  district: string | null;
  region: string | null;
  points: number | null;
  /** Whether the driver appealed the ruling already (one appeal per case). */
  appealed: boolean;
}

export async function loadCase(db: Queryable, reportId: string): Promise<CaseRow | null> {
  const { rows } = await db.query<CaseRow>(
    `select r.id, r.ruling_number, r.plate, r.violation_code, r.incident_at, r.lat, r.lon, r.status,
            r.fine_amount_sum, r.fined_at, d.name as district, g.name as region,
            (select p.points from penalty_points p
              where p.violation_code = r.violation_code
                and p.effective_from <= (r.incident_at at time zone 'Asia/Tashkent')::date
              order by p.effective_from desc limit 1) as points,
            exists (select 1 from appeals a where a.report_id = r.id) as appealed
       from reports r
       left join districts d on d.id = r.district_id
       left join regions g on g.id = r.region_id
      where r.id = $1 and r.ruling_number is not null`,
    [reportId],
  );
  return rows[0] ?? null;
}

export async function caseEvidence(
  db: Queryable,
  reportId: string,
): Promise<{ id: string; kind: 'photo' | 'video' }[]> {
  const { rows } = await db.query(
    `select e.id, e.kind from report_evidence re join evidence e on e.id = re.evidence_id
      where re.report_id = $1 order by re.position`,
    [reportId],
  );
  return rows;
}

/** One evidence file of a ruled case with its regions to blur; null when the file is not of that case. */
export async function caseEvidenceFile(
  db: Queryable,
  reportId: string,
  evidenceId: string,
): Promise<(SourceFile & { regions: Region[] }) | null> {
  const { rows } = await db.query<SourceFile & { regions: Region[] }>(
    `select encode(e.sha256, 'hex') as sha256, e.kind, e.mime,
            coalesce((select json_agg(json_build_object('x', x.x, 'y', x.y, 'w', x.w, 'h', x.h) order by x.position)
                        from evidence_redactions x
                       where x.report_id = re.report_id and x.evidence_id = re.evidence_id), '[]') as regions
       from report_evidence re
       join reports r on r.id = re.report_id and r.ruling_number is not null
       join evidence e on e.id = re.evidence_id
      where re.report_id = $1 and re.evidence_id = $2`,
    [reportId, evidenceId],
  );
  return rows[0] ?? null;
}

export async function redactionsOf(
  db: Queryable,
  reportId: string,
  evidenceId: string,
): Promise<{ regions: Region[]; markedAt: Date | null }> {
  const { rows } = await db.query<Region & { marked_at: Date }>(
    `select x, y, w, h, marked_at from evidence_redactions
      where report_id = $1 and evidence_id = $2 order by position`,
    [reportId, evidenceId],
  );
  return {
    regions: rows.map(({ x, y, w, h }) => ({ x, y, w, h })),
    markedAt: rows[0]?.marked_at ?? null,
  };
}

/** Replaces the set of regions of one evidence file of one report. */
export async function replaceRedactions(
  trx: Queryable,
  r: { reportId: string; evidenceId: string; regions: readonly Region[]; staffId: string },
): Promise<void> {
  await trx.query('delete from evidence_redactions where report_id = $1 and evidence_id = $2', [
    r.reportId,
    r.evidenceId,
  ]);
  if (r.regions.length === 0) return;
  await trx.query(
    `insert into evidence_redactions (report_id, evidence_id, position, x, y, w, h, marked_by)
     select $1, $2, p, x, y, w, h, $7
       from unnest($3::real[], $4::real[], $5::real[], $6::real[]) with ordinality as t(x, y, w, h, p)`,
    [
      r.reportId,
      r.evidenceId,
      r.regions.map((g) => g.x),
      r.regions.map((g) => g.y),
      r.regions.map((g) => g.w),
      r.regions.map((g) => g.h),
      r.staffId,
    ],
  );
}
