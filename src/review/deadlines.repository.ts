import type { Queryable } from '../platform/db/pool.js';

/** Open for review: in the queue or held. */
const OPEN = `status in ('awaiting_review', 'in_review')`;
/** Not yet at the registry, nor closed: the legal deadline (sla_due_at, incident + FORWARD_DEADLINE_HOURS) runs. */
export const LEGAL_OPEN = `status in ('received', 'validated', 'deduplicated', 'enriched', 'awaiting_review', 'in_review',
  'needs_info', 'approved', 'failed')`;

/**
 * Raises the priority of open reports close to the earlier of their two deadlines (review_due_at, sla_due_at):
 * within `withinHours` they climb from 90 to 99 as the deadline nears, and past it they are 100 — above anything
 * analysis assigns (0–100, where 100 needs every factor at its maximum). Only ever raises, so the queue's index order
 * (priority desc, sla_due_at, id) stays what it is; rows another transaction holds are skipped until the next run.
 * Returns how many reports rose.
 */
export async function escalateDeadlines(db: Queryable, withinHours: number): Promise<number> {
  if (withinHours <= 0) return 0;
  const { rowCount } = await db.query(
    `with due as (
       select id, least(review_due_at, sla_due_at) as due from reports
        where ${OPEN} and least(review_due_at, sla_due_at) < now() + make_interval(hours => $1)
        for update skip locked),
     target as (
       select id, case when due <= now() then 100
                  else 90 + floor(9 * (1 - extract(epoch from (due - now())) / ($1 * 3600.0)))::int end as p
         from due)
     update reports r set priority = t.p from target t
      where r.id = t.id and coalesce(r.priority, 0) < t.p`,
    [withinHours],
  );
  return rowCount ?? 0;
}

export interface DeadlineBreachCounts {
  /** Open for review past review_due_at. */
  review: number;
  /** Not yet forwarded (nor closed) past the legal deadline sla_due_at. */
  legal: number;
}

/** How many reports are past each deadline now (the `jarima_review_deadline_breaches` gauge). */
export async function deadlineBreachCounts(db: Queryable): Promise<DeadlineBreachCounts> {
  const { rows } = await db.query<DeadlineBreachCounts>(
    `select count(*) filter (where ${OPEN} and review_due_at < now())::int as review,
            count(*) filter (where sla_due_at < now())::int as legal
       from reports where ${LEGAL_OPEN} and (review_due_at < now() or sla_due_at < now())`,
  );
  return rows[0]!;
}

/** Reports an automated stage gave up on (status failed), waiting for an operator (the `jarima_dead_letter_reports` gauge). */
export async function deadLetterReportCount(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `select count(*)::int as n from reports where status = 'failed'`,
  );
  return rows[0]!.n;
}
