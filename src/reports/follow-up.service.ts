import { sweepJob } from '../pipeline/jobs.js';
import { type Pool, type Queryable, withTransaction } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { lockReportForUpdate, type ReportRow } from './reports.repository.js';
import { changeable } from './reports.view.js';
import { applyTransitions, type Transition } from './transition.js';

/** Most files one report may carry, the citizen's additions included (as when it is filed). */
export const MAX_EVIDENCE_PER_REPORT = 10;

export interface Answer {
  text: string | null;
  evidenceIds: string[];
}

/** What a citizen may correct, already validated and normalised as POST /v1/reports does. */
export interface Correction {
  plate?: { plate: string; plateInput: string };
  lat?: number;
  lon?: number;
  incidentAt?: Date;
  violationCode?: string;
  description?: string | null;
}

async function move(trx: Queryable, report: ReportRow, t: Transition): Promise<void> {
  const moved = await applyTransitions(trx, [{ report, t }]);
  // The row was locked FOR UPDATE, so its version cannot have moved under us.
  if (!moved.has(report.id)) throw new Error(`report ${report.id} changed while locked`);
}

/**
 * The citizen's own report, locked until the transaction ends: an inspector's claim (FOR UPDATE SKIP LOCKED) passes
 * it by meanwhile, and a claim that got there first is seen in its status. Another citizen's is "not found".
 */
async function lockOwn(trx: Queryable, citizenId: string, id: string): Promise<ReportRow> {
  const report = await lockReportForUpdate(trx, id);
  if (!report || report.citizen_id !== citizenId) throw new AppError('REPORT_NOT_FOUND');
  return report;
}

/**
 * The citizen answers the inspector's question: new files join the report, an `answered` event keeps the text, and
 * the report returns to the queue at its former place (its priority and legal deadline sla_due_at, which the queue
 * orders by, are unchanged: the law's clock runs from the incident whatever we asked). The review deadline
 * (review_due_at) moves on by the time the question waited, so the inspector's clock does not count the citizen's.
 */
export async function answer(pool: Pool, citizenId: string, id: string, a: Answer): Promise<ReportRow> {
  return withTransaction(pool, async (trx) => {
    const report = await lockOwn(trx, citizenId, id);
    if (report.status !== 'needs_info') throw new AppError('REPORT_NOT_AWAITING_INFO');
    if (!a.text && a.evidenceIds.length === 0)
      throw new AppError('VALIDATION_FAILED', { field: 'text', message: 'Write an answer or add a file.' });
    if (a.evidenceIds.length) await attachEvidence(trx, citizenId, report.id, a.evidenceIds);
    const at = new Date();
    const waitedMs = Math.max(0, at.getTime() - (report.decided_at ?? at).getTime());
    await move(trx, report, {
      toStatus: 'awaiting_review',
      eventType: 'answered',
      actor: 'citizen',
      data: { ...(a.text ? { text: a.text } : {}), evidenceCount: a.evidenceIds.length },
    });
    await trx.query(
      `update reports set review_due_at = review_due_at + make_interval(secs => $2) where id = $1`,
      [report.id, waitedMs / 1000],
    );
    return report;
  });
}

/**
 * Links the citizen's new files after the report's own, refusing any they did not upload, that could not be read,
 * that the report already has, or beyond the most a report may carry.
 */
async function attachEvidence(trx: Queryable, citizenId: string, reportId: string, ids: string[]) {
  const { rows } = await trx.query<{ id: string; readable: boolean; attached: boolean }>(
    `select e.id, e.readable,
            exists (select from report_evidence re where re.report_id = $2 and re.evidence_id = e.id) as attached
       from evidence e
      where e.id = any($3::uuid[])
        and exists (select from evidence_uploads u where u.citizen_id = $1 and u.evidence_id = e.id)`,
    [citizenId, reportId, ids],
  );
  const found = new Map(rows.map((r) => [r.id, r]));
  ids.forEach((evidenceId, i) => {
    const e = found.get(evidenceId);
    if (!e) throw new AppError('EVIDENCE_NOT_FOUND', { field: `evidenceIds.${i}` });
    if (!e.readable || e.attached)
      throw new AppError('VALIDATION_FAILED', {
        field: `evidenceIds.${i}`,
        message: e.attached ? 'This file is already part of the report.' : 'This file could not be read.',
      });
  });
  const { rows: counted } = await trx.query<{ n: number; last: number }>(
    `select count(*)::int as n, coalesce(max(position), -1)::int as last from report_evidence where report_id = $1`,
    [reportId],
  );
  const { n, last } = counted[0]!;
  if (n + ids.length > MAX_EVIDENCE_PER_REPORT)
    throw new AppError('VALIDATION_FAILED', {
      field: 'evidenceIds',
      message: `A report carries at most ${MAX_EVIDENCE_PER_REPORT} files; it has ${n}.`,
    });
  await trx.query(
    `insert into report_evidence (report_id, evidence_id, position)
     select $1, e, $3 + ord from unnest($2::uuid[]) with ordinality as u(e, ord)`,
    [reportId, ids, last],
  );
}

/** The citizen takes a report back before review starts; after that it is the inspector's. */
export async function withdraw(pool: Pool, citizenId: string, id: string): Promise<ReportRow> {
  return withTransaction(pool, async (trx) => {
    const report = await lockOwn(trx, citizenId, id);
    if (!changeable(report)) throw new AppError('REPORT_REVIEW_STARTED');
    await move(trx, report, { toStatus: 'withdrawn', eventType: 'withdrawn', actor: 'citizen' });
    return report;
  });
}

/** What a correction may change, as the API names it (and a `corrected` event lists it). */
const CORRECTABLE = ['plate', 'lat', 'lon', 'incidentAt', 'violationCode', 'description'] as const;

/**
 * The citizen corrects a report before review starts: the changed fields are rewritten, a `corrected` event lists
 * each (old → new, nothing the citizen did not enter), and the report goes back to `received` for every automated
 * check to run again on what it now says. Returns null when nothing differed (no event, no new checks).
 */
export async function correct(
  pool: Pool,
  citizenId: string,
  id: string,
  c: Correction,
): Promise<ReportRow | null> {
  return withTransaction(pool, async (trx) => {
    const report = await lockOwn(trx, citizenId, id);
    if (!changeable(report)) throw new AppError('REPORT_REVIEW_STARTED');
    if (Object.values(c).every((v) => v === undefined))
      throw new AppError('VALIDATION_FAILED', { message: 'Send at least one field to correct.' });
    const old = {
      plate: report.plate,
      lat: report.lat,
      lon: report.lon,
      incidentAt: report.incident_at.toISOString(),
      violationCode: report.violation_code,
      description: report.description,
    };
    const wanted = {
      plate: c.plate?.plate,
      lat: c.lat,
      lon: c.lon,
      incidentAt: c.incidentAt?.toISOString(),
      violationCode: c.violationCode,
      description: c.description,
    };
    const changes: Record<string, { from: unknown; to: unknown }> = {};
    for (const key of CORRECTABLE) {
      const to = wanted[key];
      if (to !== undefined && to !== old[key]) changes[key] = { from: old[key], to };
    }
    if (Object.keys(changes).length === 0) return null;
    // The facts the checks derived from the old claim (place, deadlines, findings) are recomputed from the new one;
    // the review clock starts again when the report next reaches the queue.
    await trx.query(
      `update reports set plate = $2, plate_input = $3, lat = $4, lon = $5, incident_at = $6, violation_code = $7,
              description = $8, reviewable_at = null, review_due_at = null
        where id = $1`,
      [
        report.id,
        c.plate?.plate ?? report.plate,
        c.plate?.plateInput ?? report.plate_input,
        c.lat ?? report.lat,
        c.lon ?? report.lon,
        c.incidentAt ?? report.incident_at,
        c.violationCode ?? report.violation_code,
        c.description === undefined ? report.description : c.description,
      ],
    );
    await move(trx, report, {
      toStatus: 'received',
      eventType: 'corrected',
      actor: 'citizen',
      data: { changes },
      patch: {
        reasonCode: null,
        duplicateOf: null,
        findings: [],
        priority: null,
        slaDueAt: null,
      },
      next: [sweepJob('validate')],
    });
    return report;
  });
}
