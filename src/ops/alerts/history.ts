import type { Queryable } from '../../platform/db/pool.js';
import type { Labels } from './expr.js';
import type { Severity } from './rules.js';
import type { AlertEvent } from './sinks.js';

export interface AlertHistoryRow {
  id: number;
  rule: string;
  labels: Labels;
  severity: Severity;
  state: 'firing' | 'resolved';
  value: number | null;
  summary: string;
  at: Date;
}

/** Appends one firing or resolved transition. */
export async function recordAlertEvent(db: Queryable, e: AlertEvent): Promise<void> {
  await db.query(
    `insert into alert_events (rule, labels, severity, state, value, summary, at)
     values ($1, $2, $3, $4, $5, $6, $7)`,
    [e.rule, JSON.stringify(e.labels), e.severity, e.state, e.value, e.summary, e.at],
  );
}

/**
 * Newest first, `limit` at a time; pass the last row's id as `before` for the next page. Ids follow insertion
 * order, which is evaluation order, so the pages never skip or repeat a row however many transitions share a tick.
 */
export async function listAlertHistory(
  db: Queryable,
  opts: { limit: number; before?: number | undefined; rule?: string | undefined },
): Promise<AlertHistoryRow[]> {
  const { rows } = await db.query<AlertHistoryRow>(
    `select id, rule, labels, severity, state, value, summary, at
       from alert_events
      where ($1::text is null or rule = $1) and ($2::bigint is null or id < $2)
      order by id desc
      limit $3`,
    [opts.rule ?? null, opts.before ?? null, opts.limit],
  );
  return rows;
}

/** Deletes history older than `before` (alert_events_at); returns how many rows went. */
export async function pruneAlertHistory(db: Queryable, before: Date): Promise<number> {
  const { rowCount } = await db.query('delete from alert_events where at < $1', [before]);
  return rowCount ?? 0;
}
