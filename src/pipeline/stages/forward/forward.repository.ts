import type { CaseSubmission } from '../../../integrations/gov-registry/port.js';
import type { Queryable } from '../../../platform/db/pool.js';
import { REPORT_COLUMNS, type ReportRow } from '../../../reports/reports.repository.js';
import { LEASE_FREE, type Lease } from '../../runner/lease.js';

/**
 * Leases up to `limit` approved reports nobody holds, earliest forwarding deadline first (index
 * reports_to_forward), except those this sweep already gave up on: one statement, so its row locks last only as
 * long as it does. Parallel sweeps skip each other's rows and leases.
 */
export async function claimForForward(
  db: Queryable,
  limit: number,
  except: string[],
  lease: Lease,
): Promise<ReportRow[]> {
  const { rows } = await db.query<ReportRow>(
    `with c as (
       select id from reports where status = 'approved' and ${LEASE_FREE} and id <> all($2::uuid[])
        order by forward_due_at, id limit $1 for update skip locked)
     update reports set stage_lease_owner = $3, stage_lease_expires_at = now() + $4 * interval '1 millisecond'
      where id in (select id from c)
      returning ${REPORT_COLUMNS}`,
    [limit, except, lease.owner, lease.ms],
  );
  // An UPDATE returns its rows in no particular order: the earliest deadlines are called first.
  const due = (r: ReportRow) => r.forward_due_at?.getTime() ?? Number.POSITIVE_INFINITY;
  return rows.sort((a, b) => due(a) - due(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The case each report becomes: what the registry needs to fine the vehicle, and nothing about the reporter. */
export async function casesOf(db: Queryable, reports: ReportRow[]): Promise<CaseSubmission[]> {
  const { rows } = await db.query<{ report_id: string; sha256: string; kind: 'photo' | 'video' }>(
    `select re.report_id, encode(e.sha256, 'hex') as sha256, e.kind
       from report_evidence re join evidence e on e.id = re.evidence_id
      where re.report_id = any($1::uuid[]) order by re.report_id, re.position`,
    [reports.map((r) => r.id)],
  );
  return reports.map((r) => ({
    reportId: r.id,
    violationCode: r.violation_code,
    plate: r.plate,
    incidentAt: r.incident_at.toISOString(),
    lat: r.lat,
    lon: r.lon,
    regionId: r.region_id,
    districtId: r.district_id,
    fineBhm: r.fine_bhm_max ?? r.fine_bhm_min,
    fineSum: r.fine_sum_max ?? r.fine_sum_min,
    evidence: rows.filter((e) => e.report_id === r.id).map((e) => ({ sha256: e.sha256, kind: e.kind })),
  }));
}
