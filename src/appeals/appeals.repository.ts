import type { Queryable } from '../platform/db/pool.js';
import { scopeSql, type UnitScope } from '../review/review.scope.js';
import type { AppealDecisionKind, DriverLang } from './appeals.schema.js';

export interface AppealRow {
  id: string;
  report_id: string;
  text: string;
  contact_phone_enc: Buffer;
  status: 'filed' | 'in_review' | 'decided';
  unit_id: number | null;
  lease_owner: string | null;
  lease_expires_at: Date | null;
  filed_at: Date;
  sla_due_at: Date;
  decision: AppealDecisionKind | null;
  corrected_violation_code: string | null;
  reason_code: string | null;
  note: string | null;
  decided_by: string | null;
  decided_at: Date | null;
  registry_sent_at: Date | null;
  registry_attempts: number;
  attachments: number;
}

const COLUMNS = `a.id, a.report_id, a.text, a.contact_phone_enc, a.status, a.unit_id, a.lease_owner,
  a.lease_expires_at, a.filed_at, a.sla_due_at, a.decision, a.corrected_violation_code, a.reason_code, a.note,
  a.decided_by, a.decided_at, a.registry_sent_at, a.registry_attempts,
  (select count(*)::int from appeal_attachments x where x.appeal_id = a.id) as attachments`;

/** Free to take: filed, or taken by someone whose lease has run out. */
const CLAIMABLE = `(a.status = 'filed' or (a.status = 'in_review' and a.lease_expires_at < now()))`;

/** The ruled case an appeal is filed against: what the window and the registry need, nothing of the reporter. */
export interface AppealableCase {
  id: string;
  status: string;
  fined_at: Date | null;
  unit_id: number | null;
  case_number: string | null;
}

export async function appealableCase(db: Queryable, reportId: string): Promise<AppealableCase | null> {
  const { rows } = await db.query<AppealableCase>(
    `select id, status, fined_at, unit_id, case_number from reports where id = $1 and ruling_number is not null`,
    [reportId],
  );
  return rows[0] ?? null;
}

export async function appealOfReport(db: Queryable, reportId: string): Promise<AppealRow | null> {
  const { rows } = await db.query<AppealRow>(`select ${COLUMNS} from appeals a where a.report_id = $1`, [
    reportId,
  ]);
  return rows[0] ?? null;
}

export async function findAppeal(db: Queryable, id: string, lock = false): Promise<AppealRow | null> {
  const { rows } = await db.query<AppealRow>(
    `select ${COLUMNS} from appeals a where a.id = $1${lock ? ' for update' : ''}`,
    [id],
  );
  return rows[0] ?? null;
}

/** Which of `ids` the driver uploaded for this case (case_uploads). */
export async function uploadedForCase(db: Queryable, reportId: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { rows } = await db.query<{ evidence_id: string }>(
    'select evidence_id from case_uploads where report_id = $1 and evidence_id = any($2::uuid[])',
    [reportId, ids],
  );
  return new Set(rows.map((r) => r.evidence_id));
}

export async function insertAppeal(
  trx: Queryable,
  a: {
    id: string;
    reportId: string;
    text: string;
    phoneEnc: Buffer;
    phoneHash: Buffer;
    unitId: number | null;
    slaHours: number;
    attachmentIds: string[];
    lang: DriverLang;
  },
): Promise<boolean> {
  const { rowCount } = await trx.query(
    `insert into appeals (id, report_id, text, contact_phone_enc, contact_phone_hash, phone_confirmed_at, unit_id,
                          sla_due_at, lang)
     values ($1, $2, $3, $4, $5, now(), $6, now() + make_interval(hours => $7), $8)
     on conflict (report_id) do nothing`,
    [a.id, a.reportId, a.text, a.phoneEnc, a.phoneHash, a.unitId, a.slaHours, a.lang],
  );
  if (!rowCount) return false;
  await trx.query(
    `insert into appeal_attachments (appeal_id, position, evidence_id)
     select $1, ord - 1, id from unnest($2::uuid[]) with ordinality as v(id, ord)`,
    [a.id, a.attachmentIds],
  );
  return true;
}

export interface AttachmentRow {
  id: string;
  kind: 'photo' | 'video';
  mime: string;
  bytes: number;
  sha256: Buffer;
}

export async function attachmentsOf(db: Queryable, appealId: string): Promise<AttachmentRow[]> {
  const { rows } = await db.query<AttachmentRow>(
    `select e.id, e.kind, e.mime, e.bytes, e.sha256 from appeal_attachments x join evidence e on e.id = x.evidence_id
      where x.appeal_id = $1 order by x.position`,
    [appealId],
  );
  return rows;
}

/** The open queue by deadline (index appeals_open), in a unit scope like the review queue. */
export async function appealQueue(db: Queryable, scope: UnitScope, limit: number): Promise<AppealRow[]> {
  const params: unknown[] = [];
  const scoped = scopeSql(scope, params, 'a.unit_id');
  params.push(limit);
  const { rows } = await db.query<AppealRow>(
    `select ${COLUMNS} from appeals a where a.status <> 'decided'${scoped}
      order by a.sla_due_at, a.id limit $${params.length}`,
    params,
  );
  return rows;
}

/** The appeal this supervisor holds a live lease on, if any. */
export async function heldAppeal(db: Queryable, staffId: string): Promise<AppealRow | null> {
  const { rows } = await db.query<AppealRow>(
    `select ${COLUMNS} from appeals a
      where a.lease_owner = $1 and a.status = 'in_review' and a.lease_expires_at >= now()
      order by a.lease_expires_at desc limit 1`,
    [staffId],
  );
  return rows[0] ?? null;
}

/** Locks the most urgent free appeal in scope, skipping those another supervisor is taking this instant. */
export async function lockNextAppeal(trx: Queryable, scope: UnitScope): Promise<AppealRow | null> {
  const params: unknown[] = [];
  const scoped = scopeSql(scope, params, 'a.unit_id');
  const { rows } = await trx.query<AppealRow>(
    `select ${COLUMNS} from appeals a where a.status <> 'decided' and ${CLAIMABLE}${scoped}
      order by a.sla_due_at, a.id limit 1 for update skip locked`,
    params,
  );
  return rows[0] ?? null;
}

export async function setLease(
  trx: Queryable,
  id: string,
  lease: { owner: string; expiresAt: Date } | null,
): Promise<void> {
  await trx.query(
    `update appeals set status = case when $2::uuid is null then 'filed' else 'in_review' end,
            lease_owner = $2, lease_expires_at = $3
      where id = $1`,
    [id, lease?.owner ?? null, lease?.expiresAt ?? null],
  );
}

export async function recordDecision(
  trx: Queryable,
  d: {
    id: string;
    decision: AppealDecisionKind;
    violationCode: string | null;
    reasonCode: string;
    note: string | null;
    staffId: string;
  },
): Promise<void> {
  await trx.query(
    `update appeals set status = 'decided', decision = $2, corrected_violation_code = $3, reason_code = $4,
            note = $5, decided_by = $6, decided_at = now(), lease_owner = null, lease_expires_at = null,
            registry_next_attempt_at = now()
      where id = $1`,
    [d.id, d.decision, d.violationCode, d.reasonCode, d.note, d.staffId],
  );
}
