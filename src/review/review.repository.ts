import type { Queryable } from '../platform/db/pool.js';
import { REPORT_COLUMNS, type ReportRow } from '../reports/reports.repository.js';
import { LEGAL_OPEN } from './deadlines.repository.js';
import { scopeSql, type UnitScope } from './review.scope.js';

export interface QueueFilter {
  regionId?: number;
  districtId?: number;
  violationCode?: string;
  /** Only reports still free to claim (awaiting review or with a lapsed lease), or only those being reviewed. */
  status?: 'awaiting_review' | 'in_review';
  /** Only reports past their review deadline. */
  overdue?: boolean;
  /** The police unit(s) whose reports these are (see review.scope.ts); absent or null: every unit's. */
  scope?: UnitScope;
}

/** Position in the queue's order: priority (high first), deadline (soonest first), id. */
export interface QueueCursor {
  priority: number;
  due: string | null;
  id: string;
}

const QUEUE_ORDER = `coalesce(priority, 0) desc, coalesce(sla_due_at, 'infinity') asc, id asc`;

/** Free to claim: waiting, or claimed by someone whose lease has run out. */
const CLAIMABLE = `(status = 'awaiting_review' or (status = 'in_review' and lease_expires_at < now()))`;

function filterSql(f: QueueFilter, params: unknown[]): string {
  const where: string[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (f.regionId !== undefined) add('region_id = ?', f.regionId);
  if (f.districtId !== undefined) add('district_id = ?', f.districtId);
  if (f.violationCode !== undefined) add('violation_code = ?', f.violationCode);
  if (f.status === 'awaiting_review') where.push(CLAIMABLE);
  if (f.status === 'in_review') where.push(`(status = 'in_review' and lease_expires_at >= now())`);
  if (f.overdue) where.push('least(review_due_at, sla_due_at) < now()');
  return where.map((w) => ` and ${w}`).join('') + scopeSql(f.scope ?? null, params);
}

/**
 * A page of open reports in review order, keyset-paginated on (priority, deadline, id) — the expressions of the
 * partial index reports_review_queue, so a deep page costs what the first does.
 */
export async function reviewQueue(
  db: Queryable,
  f: QueueFilter,
  opts: { after?: QueueCursor; limit: number },
): Promise<ReportRow[]> {
  const params: unknown[] = [];
  let keyset = '';
  if (opts.after) {
    params.push(opts.after.priority, opts.after.due ?? 'infinity', opts.after.id);
    // (-priority, due, id) > (-p, d, i): descending priority expressed as ascending on its negation.
    keyset = ` and (-coalesce(priority, 0), coalesce(sla_due_at, 'infinity'), id) > (-$1::int, $2::timestamptz, $3::uuid)`;
  }
  const filters = filterSql(f, params);
  params.push(opts.limit);
  const { rows } = await db.query<ReportRow>(
    `select ${REPORT_COLUMNS} from reports
      where status in ('awaiting_review', 'in_review')${keyset}${filters}
      order by ${QUEUE_ORDER} limit $${params.length}`,
    params,
  );
  return rows;
}

/**
 * Locks the first claimable report in review order, skipping rows another inspector is claiming this instant, so
 * two inspectors never get the same report.
 */
export async function lockNextForReview(trx: Queryable, f: QueueFilter): Promise<ReportRow | null> {
  const params: unknown[] = [];
  const filters = filterSql({ ...f, status: 'awaiting_review' }, params);
  const { rows } = await trx.query<ReportRow>(
    `select ${REPORT_COLUMNS} from reports
      where status in ('awaiting_review', 'in_review')${filters}
      order by ${QUEUE_ORDER} limit 1 for update skip locked`,
    params,
  );
  return rows[0] ?? null;
}

/** The report this inspector holds a live lease on, if any (one at a time: no hoarding). */
export async function heldBy(db: Queryable, staffId: string): Promise<ReportRow | null> {
  const { rows } = await db.query<ReportRow>(
    `select ${REPORT_COLUMNS} from reports
      where lease_owner = $1 and status = 'in_review' and lease_expires_at >= now()
      order by lease_expires_at desc limit 1`,
    [staffId],
  );
  return rows[0] ?? null;
}

/** Reports whose lease ran out, locked for returning to the queue. */
export async function lockLapsedLeases(trx: Queryable, limit: number): Promise<ReportRow[]> {
  const { rows } = await trx.query<ReportRow>(
    `select ${REPORT_COLUMNS} from reports
      where status = 'in_review' and lease_expires_at < now()
      order by lease_expires_at limit $1 for update skip locked`,
    [limit],
  );
  return rows;
}

export interface StaffRef {
  id: string;
  login: string;
  role: string;
  display_name: string;
}

export async function findActiveStaff(db: Queryable, id: string): Promise<StaffRef | null> {
  const { rows } = await db.query<StaffRef>(
    'select id, login, role, display_name from staff where id = $1 and active',
    [id],
  );
  return rows[0] ?? null;
}

export interface RelatedReport {
  id: string;
  status: string;
  relation: 'duplicate_of' | 'duplicated_by' | 'near_identical';
}

/** Other reports tied to this one: the one it duplicates, those that duplicate it, near-identical pictures. */
export async function relatedReports(db: Queryable, r: ReportRow): Promise<RelatedReport[]> {
  const near = (r.findings as { type?: string; detail?: { otherReportId?: string } }[])
    .filter((f) => f.type === 'near_identical' && f.detail?.otherReportId)
    .map((f) => f.detail!.otherReportId!);
  const { rows } = await db.query<{ id: string; status: string; relation: string }>(
    `select id, status, case when id = $2 then 'duplicate_of'
                             when duplicate_of = $1 then 'duplicated_by' else 'near_identical' end as relation
       from reports
      where id = $2 or duplicate_of = $1 or id = any($3::uuid[])
      order by id limit 50`,
    [r.id, r.duplicate_of, near],
  );
  return rows as RelatedReport[];
}

export interface EvidenceFile {
  id: string;
  kind: 'photo' | 'video';
  mime: string;
  bytes: number;
  sha256: string;
  thumb_sha256: string | null;
  poster_sha256: string | null;
}

/** One evidence file of a report (null when the file is not attached to that report). */
export async function evidenceOfReport(
  db: Queryable,
  reportId: string,
  evidenceId: string,
): Promise<EvidenceFile | null> {
  const { rows } = await db.query<EvidenceFile>(
    `select e.id, e.kind, e.mime, e.bytes, encode(e.sha256, 'hex') as sha256, e.thumb_sha256, e.poster_sha256
       from report_evidence re join evidence e on e.id = re.evidence_id
      where re.report_id = $1 and re.evidence_id = $2`,
    [reportId, evidenceId],
  );
  return rows[0] ?? null;
}

/** An evidence file with what was read from it (camera time and place, size, picture measures). */
export interface EvidenceFileFacts extends EvidenceFile {
  width: number | null;
  height: number | null;
  duration_ms: number | null;
  taken_at: Date | null;
  gps_lat: number | null;
  gps_lon: number | null;
  camera: string | null;
  sharpness: number | null;
  brightness: number | null;
  /** Regions inspectors marked to blur in the drivers' copy (src/driver/redactions.routes.ts). */
  redactions: { x: number; y: number; w: number; h: number }[];
}

export async function evidenceFilesOf(db: Queryable, reportId: string): Promise<EvidenceFileFacts[]> {
  const { rows } = await db.query(
    `select e.id, e.kind, e.mime, e.bytes, encode(e.sha256, 'hex') as sha256, e.thumb_sha256, e.poster_sha256,
            e.width, e.height, e.duration_ms, e.taken_at, e.gps_lat, e.gps_lon, e.camera, e.sharpness, e.brightness,
            coalesce((select json_agg(json_build_object('x', x.x, 'y', x.y, 'w', x.w, 'h', x.h) order by x.position)
                        from evidence_redactions x
                       where x.report_id = re.report_id and x.evidence_id = re.evidence_id), '[]') as redactions
       from report_evidence re join evidence e on e.id = re.evidence_id
      where re.report_id = $1 order by re.position`,
    [reportId],
  );
  return rows;
}

export async function recordEvidenceView(
  db: Queryable,
  v: { staffId: string; reportId: string; evidenceId: string; variant: string; ip: string | null },
): Promise<void> {
  await db.query(
    'insert into evidence_views (staff_id, report_id, evidence_id, variant, ip) values ($1, $2, $3, $4, $5)',
    [v.staffId, v.reportId, v.evidenceId, v.variant, v.ip],
  );
}

export interface EvidenceViewRow {
  staff_id: string;
  login: string;
  evidence_id: string;
  variant: string;
  at: Date;
}

export async function evidenceViewsOf(db: Queryable, reportId: string): Promise<EvidenceViewRow[]> {
  const { rows } = await db.query(
    `select v.staff_id, s.login, v.evidence_id, v.variant, v.at
       from evidence_views v join staff s on s.id = v.staff_id
      where v.report_id = $1 order by v.at desc limit 200`,
    [reportId],
  );
  return rows;
}

export interface InspectorWorkload {
  staff_id: string;
  login: string;
  display_name: string;
  role: string;
  holding: number;
  approved_24h: number;
  rejected_24h: number;
  needs_info_24h: number;
}

/** Per inspector (of the scope's unit): reports held now and decisions in the last 24 hours by kind. */
export async function workload(db: Queryable, scope: UnitScope = null): Promise<InspectorWorkload[]> {
  const params: unknown[] = [];
  const unit = scope ? scopeSql({ ...scope, withUnrouted: false }, params, 's.unit_id') : '';
  const { rows } = await db.query(
    `select s.id as staff_id, s.login, s.display_name, s.role,
            (select count(*)::int from reports r
              where r.lease_owner = s.id and r.status = 'in_review' and r.lease_expires_at >= now()) as holding,
            count(d.*) filter (where d.review_decision = 'approve')::int as approved_24h,
            count(d.*) filter (where d.review_decision = 'reject')::int as rejected_24h,
            count(d.*) filter (where d.review_decision = 'needs_info')::int as needs_info_24h
       from staff s
       left join reports d on d.reviewed_by = s.id and d.decided_at > now() - interval '24 hours'
      where s.active and s.role in ('inspector', 'supervisor')${unit}
      group by s.id order by s.login`,
    params,
  );
  return rows;
}

export interface QueueCounts {
  waiting: number;
  in_review: number;
  overdue: number;
}

/** The open queue at a glance: free to claim (lapsed leases included), held under a live lease, past deadline. */
export async function queueCounts(db: Queryable, scope: UnitScope = null): Promise<QueueCounts> {
  const params: unknown[] = [];
  const unit = scopeSql(scope, params);
  const { rows } = await db.query<QueueCounts>(
    `select count(*) filter (where status = 'awaiting_review' or lease_expires_at < now())::int as waiting,
            count(*) filter (where status = 'in_review' and lease_expires_at >= now())::int as in_review,
            count(*) filter (where least(review_due_at, sla_due_at) < now())::int as overdue
       from reports where status in ('awaiting_review', 'in_review')${unit}`,
    params,
  );
  return rows[0]!;
}

export interface SlaBreach {
  id: string;
  status: string;
  due: Date;
  kind: 'review_overdue' | 'legal_overdue' | 'forward_overdue';
}

/**
 * Deadlines missed: reports still waiting for review past their review deadline (review_due_at), reports not yet at
 * the registry past the legal deadline from the incident (sla_due_at), and approved reports that have not reached
 * the registry within the forwarding SLA.
 */
export async function slaBreaches(
  db: Queryable,
  limit: number,
  scope: UnitScope = null,
): Promise<SlaBreach[]> {
  const params: unknown[] = [limit];
  const unit = scopeSql(scope, params);
  const { rows } = await db.query(
    `(select id, status, review_due_at as due, 'review_overdue' as kind from reports
       where status in ('awaiting_review', 'in_review') and review_due_at < now()${unit}
       order by review_due_at limit $1)
     union all
     (select id, status, sla_due_at as due, 'legal_overdue' as kind from reports
       where ${LEGAL_OPEN} and sla_due_at < now()${unit} order by sla_due_at limit $1)
     union all
     (select id, status, forward_due_at as due, 'forward_overdue' as kind from reports
       where status = 'approved' and forward_due_at < now()${unit} order by forward_due_at limit $1)`,
    params,
  );
  return rows;
}
