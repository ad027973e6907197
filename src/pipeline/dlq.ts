import { audit } from '../audit/audit.js';
import { type Pool, type Queryable, withTransaction } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { lockReport } from '../reports/reports.repository.js';
import type { ReportStatus } from '../reports/status.js';
import { applyTransitions, type Transition } from '../reports/transition.js';
import type { DeadLetter } from './dlq.schema.js';
import { JOB_NAMES, type JobName, sweepJob } from './jobs.js';

/** What the pipeline gave up on, dead jobs first (DeadLetter in dlq.schema.ts: ids `job:<n>`, `report:<uuid>`). */
export async function listDeadLetters(pool: Pool, limit = 100): Promise<DeadLetter[]> {
  const [jobs, reports] = await Promise.all([
    pool.query<{
      id: string;
      task_identifier: string;
      attempts: number;
      last_error: string | null;
      updated_at: Date;
    }>(
      `select id::text, task_identifier, attempts, last_error, updated_at from graphile_worker.jobs
        where attempts >= max_attempts and locked_at is null order by id limit $1`,
      [limit],
    ),
    pool.query<{ id: string; stage: string; error: string; updated_at: Date }>(
      `select r.id, e.data->>'stage' as stage, e.data->>'error' as error, r.updated_at
         from reports r join report_events e on e.report_id = r.id and e.seq = r.version
        where r.status = 'failed' order by r.id limit $1`,
      [limit],
    ),
  ]);
  return [
    ...jobs.rows.map((j) => ({
      id: `job:${j.id}`,
      kind: 'job' as const,
      stage: j.task_identifier,
      attempts: j.attempts,
      error: j.last_error,
      since: j.updated_at.toISOString(),
    })),
    ...reports.rows.map((r) => ({
      id: `report:${r.id}`,
      kind: 'report' as const,
      stage: r.stage,
      attempts: null,
      error: r.error,
      since: r.updated_at.toISOString(),
    })),
  ];
}

/** Who acted, for the audit log (src/audit/audit.ts `auditContext`). */
export interface DeadLetterActor {
  actorId?: string;
  actorLogin?: string;
  ip?: string;
  userAgent?: string;
}

function auditDeadLetter(
  trx: Queryable,
  action: 'dead_letter_retried' | 'dead_letter_discarded',
  target: { kind: 'job' | 'report'; id: string },
  who: DeadLetterActor,
  detail: Record<string, unknown> = {},
): Promise<void> {
  return audit(trx, { ...who, action, targetKind: target.kind, targetId: target.id, detail });
}

/** Sends a dead letter back: a job runs again from attempt 0; a failed report returns to the stage that failed it. */
export async function retryDeadLetter(
  pool: Pool,
  id: string,
  actor: string,
  who: DeadLetterActor = {},
): Promise<void> {
  const target = parseId(id);
  if (target.kind === 'job') {
    await withTransaction(pool, async (trx) => {
      const { rows } = await trx.query<{ n: number }>(
        `select count(*)::int as n from graphile_worker.reschedule_jobs(array(
           select id from graphile_worker.jobs where id = $1::bigint and attempts >= max_attempts),
           run_at := now(), attempts := 0)`,
        [target.id],
      );
      if (!rows[0]?.n) throw new AppError('DEAD_LETTER_NOT_FOUND');
      await auditDeadLetter(trx, 'dead_letter_retried', target, who);
    });
    return;
  }
  await moveFailedReport(
    pool,
    target.id,
    actor,
    (stage, from) => ({
      toStatus: from,
      eventType: 'requeued',
      next: [sweepJob(stage)],
    }),
    (trx, stage) => auditDeadLetter(trx, 'dead_letter_retried', target, who, { stage }),
  );
}

/** Gives up for good: a job is deleted; a failed report is rejected with the pipeline-error reason. */
export async function discardDeadLetter(
  pool: Pool,
  id: string,
  actor: string,
  who: DeadLetterActor = {},
): Promise<void> {
  const target = parseId(id);
  if (target.kind === 'job') {
    await withTransaction(pool, async (trx) => {
      const { rows } = await trx.query<{ n: number }>(
        `select count(*)::int as n from graphile_worker.complete_jobs(array(
           select id from graphile_worker.jobs where id = $1::bigint and attempts >= max_attempts))`,
        [target.id],
      );
      if (!rows[0]?.n) throw new AppError('DEAD_LETTER_NOT_FOUND');
      await auditDeadLetter(trx, 'dead_letter_discarded', target, who);
    });
    return;
  }
  await moveFailedReport(
    pool,
    target.id,
    actor,
    () => ({
      toStatus: 'rejected',
      eventType: 'discarded',
      patch: { reasonCode: 'PIPELINE_ERROR' },
    }),
    (trx, stage) => auditDeadLetter(trx, 'dead_letter_discarded', target, who, { stage }),
  );
}

async function moveFailedReport(
  pool: Pool,
  reportId: string,
  actor: string,
  next: (stage: JobName, from: ReportStatus) => Omit<Transition, 'actor'>,
  record: (trx: Queryable, stage: JobName) => Promise<void>,
): Promise<void> {
  await withTransaction(pool, async (trx) => {
    const [report] = await lockReport(trx, reportId, 'failed');
    if (!report) throw new AppError('DEAD_LETTER_NOT_FOUND');
    const { rows } = await trx.query<{ stage: string; from: ReportStatus }>(
      `select data->>'stage' as stage, data->>'from' as "from" from report_events where report_id = $1 and seq = $2`,
      [report.id, report.version],
    );
    const stage = rows[0]?.stage as JobName;
    if (!JOB_NAMES.includes(stage)) throw new AppError('DEAD_LETTER_NOT_FOUND');
    const t = next(stage, rows[0]!.from);
    await applyTransitions(trx, [{ report, t: { ...t, actor, patch: t.patch ?? { reasonCode: null } } }]);
    await record(trx, stage);
  });
}

function parseId(id: string): { kind: 'job' | 'report'; id: string } {
  const m = /^(job):(\d{1,18})$|^(report):([0-9a-f-]{36})$/i.exec(id);
  if (!m)
    throw new AppError('VALIDATION_FAILED', {
      field: 'id',
      message: 'id: expected job:<number> or report:<uuid>',
    });
  return m[1] ? { kind: 'job', id: m[2]! } : { kind: 'report', id: m[4]! };
}
