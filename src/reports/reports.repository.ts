import type { Queryable } from '../platform/db/pool.js';
import type { Finding } from './reports.schema.js';
import type { ReportStatus } from './status.js';

export interface ReportRow {
  id: string;
  citizen_id: string;
  violation_code: string;
  plate: string;
  plate_input: string;
  lat: number;
  lon: number;
  incident_at: Date;
  description: string | null;
  status: ReportStatus;
  reason_code: string | null;
  region_id: number | null;
  district_id: number | null;
  version: number;
  last_event_hash: Buffer;
  received_at: Date;
  updated_at: Date;
  duplicate_of: string | null;
  plate_region_code: string | null;
  fine_bhm_min: number | null;
  fine_bhm_max: number | null;
  bhm_rate: number | null;
  fine_sum_min: number | null;
  fine_sum_max: number | null;
  sla_due_at: Date | null;
  reporter_trust: number | null;
  findings: Finding[];
  priority: number | null;
  lease_owner: string | null;
  lease_expires_at: Date | null;
  reviewed_by: string | null;
  decided_at: Date | null;
  review_decision: 'approve' | 'reject' | 'needs_info' | null;
  review_note: string | null;
  approved_at: Date | null;
  forward_due_at: Date | null;
  forwarded_at: Date | null;
  case_number: string | null;
  fine_amount_sum: number | null;
  fined_at: Date | null;
  paid_at: Date | null;
  reward_sum: number | null;
  rewarded_at: Date | null;
  /** The police unit the report is routed to (its district's), null for none. */
  unit_id: number | null;
  /** When it first entered the review queue, and the review deadline that starts then (REVIEW_SLA_HOURS). */
  reviewable_at: Date | null;
  review_due_at: Date | null;
}

export const REPORT_COLUMNS = `id, citizen_id, violation_code, plate, plate_input, lat, lon, incident_at, description, status,
  reason_code, region_id, district_id, version, last_event_hash, received_at, updated_at, duplicate_of,
  plate_region_code, fine_bhm_min, fine_bhm_max, bhm_rate, fine_sum_min, fine_sum_max, sla_due_at, reporter_trust,
  findings, priority, lease_owner, lease_expires_at, reviewed_by, decided_at, review_decision, review_note, approved_at, forward_due_at,
  forwarded_at, case_number, fine_amount_sum, fined_at, paid_at, reward_sum, rewarded_at, unit_id,
  reviewable_at, review_due_at`;

export async function findReport(db: Queryable, id: string): Promise<ReportRow | null> {
  const { rows } = await db.query<ReportRow>(`select ${REPORT_COLUMNS} from reports where id = $1`, [id]);
  return rows[0] ?? null;
}

export interface EvidenceRef {
  id: string;
  kind: 'photo' | 'video';
  mime: string;
  bytes: number;
  readable: boolean;
  problem: string | null;
  width: number | null;
  height: number | null;
  duration_ms: number | null;
}

/** Evidence of several reports in one query, in each report's attachment order. */
export async function evidenceOfReports(
  db: Queryable,
  reportIds: string[],
): Promise<Map<string, EvidenceRef[]>> {
  const byReport = new Map<string, EvidenceRef[]>(reportIds.map((id) => [id, []]));
  if (reportIds.length === 0) return byReport;
  const { rows } = await db.query<EvidenceRef & { report_id: string }>(
    `select re.report_id, e.id, e.kind, e.mime, e.bytes, e.readable, e.problem, e.width, e.height, e.duration_ms
       from report_evidence re join evidence e on e.id = re.evidence_id
      where re.report_id = any($1::uuid[]) order by re.report_id, re.position`,
    [reportIds],
  );
  for (const { report_id, ...e } of rows) byReport.get(report_id)?.push(e);
  return byReport;
}

// A report's evidence as one JSON array column, so a report and its files are one round trip (a status poll that
// misses the cache made two: 2 × ~2.5 ms of client time under the mixed benchmark's load, bench/README.md).
const EVIDENCE_JSON = `coalesce((
    select json_agg(json_build_object('id', e.id, 'kind', e.kind, 'mime', e.mime, 'bytes', e.bytes,
             'readable', e.readable, 'problem', e.problem, 'width', e.width, 'height', e.height,
             'duration_ms', e.duration_ms) order by re.position)
      from report_evidence re join evidence e on e.id = re.evidence_id where re.report_id = reports.id), '[]') as evidence`;

export type ReportWithEvidence = ReportRow & { evidence: EvidenceRef[] };

/** One report with its evidence, in one query. */
export async function findReportWithEvidence(db: Queryable, id: string): Promise<ReportWithEvidence | null> {
  const { rows } = await db.query<ReportWithEvidence>(
    `select ${REPORT_COLUMNS}, ${EVIDENCE_JSON} from reports where id = $1`,
    [id],
  );
  return rows[0] ?? null;
}

/**
 * A citizen's reports, newest first, keyset-paginated on the time-ordered id (index reports_citizen_id): a page
 * costs the same however deep the citizen scrolls.
 */
export async function listCitizenReports(
  db: Queryable,
  citizenId: string,
  opts: { before?: string; limit: number },
): Promise<ReportWithEvidence[]> {
  const { rows } = await db.query<ReportWithEvidence>(
    `select ${REPORT_COLUMNS}, ${EVIDENCE_JSON} from reports
      where citizen_id = $1 and ($2::uuid is null or id < $2::uuid)
      order by id desc limit $3`,
    [citizenId, opts.before ?? null, opts.limit],
  );
  return rows;
}

/**
 * Locks up to `limit` reports waiting in `status`, oldest first, skipping rows another sweep holds (partial index
 * reports_waiting; the parameter is planned as a constant, so the planner proves the index predicate).
 */
export async function claimReports(
  trx: Queryable,
  status: ReportStatus,
  limit: number,
): Promise<ReportRow[]> {
  const { rows } = await trx.query<ReportRow>(
    `select ${REPORT_COLUMNS} from reports where status = $1 order by id limit $2 for update skip locked`,
    [status, limit],
  );
  return rows;
}

/** The oldest reports waiting in `status`, without locking them (a sweep's look-ahead for slow preparation). */
export async function peekReports(db: Queryable, status: ReportStatus, limit: number): Promise<ReportRow[]> {
  const { rows } = await db.query<ReportRow>(
    `select ${REPORT_COLUMNS} from reports where status = $1 order by id limit $2`,
    [status, limit],
  );
  return rows;
}

/** Locks one report if it is still in `status` and nobody else holds it. */
export async function lockReport(trx: Queryable, id: string, status: ReportStatus): Promise<ReportRow[]> {
  const { rows } = await trx.query<ReportRow>(
    `select ${REPORT_COLUMNS} from reports where id = $1 and status = $2 for update skip locked`,
    [id, status],
  );
  return rows;
}

/** Locks one report whatever its state, waiting for any transaction that holds it (a decision, a callback). */
export async function lockReportForUpdate(trx: Queryable, id: string): Promise<ReportRow | null> {
  const { rows } = await trx.query<ReportRow>(
    `select ${REPORT_COLUMNS} from reports where id = $1 for update`,
    [id],
  );
  return rows[0] ?? null;
}
