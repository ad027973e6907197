import type { Queryable } from '../platform/db/pool.js';
import type { AuditItem } from './audit.schema.js';

export interface AuditFilter {
  /** A staff id (uuid) or a login. */
  actor?: string;
  action?: string;
  targetKind?: string;
  targetId?: string;
  outcome?: string;
  /** ISO instants: at ≥ from, at < to. */
  from?: string;
  to?: string;
}

/** Position in the log's order (newest first): the exact timestamp as text (microseconds kept) and the id. */
export interface AuditKey {
  at: string;
  id: string;
}

export interface AuditRow {
  id: string;
  at: Date;
  at_key: string;
  actor_id: string | null;
  actor_login: string | null;
  action: string;
  outcome: 'ok' | 'denied' | 'failed';
  target_kind: string | null;
  target_id: string | null;
  detail: Record<string, unknown>;
  ip: string | null;
  user_agent: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function whereOf(f: AuditFilter, params: unknown[]): string[] {
  const where: string[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (f.actor) where.push(UUID.test(f.actor) ? `actor_id = ${p(f.actor)}` : `actor_login = ${p(f.actor)}`);
  if (f.action) where.push(`action = ${p(f.action)}`);
  if (f.targetKind) where.push(`target_kind = ${p(f.targetKind)}`);
  if (f.targetId) where.push(`target_id = ${p(f.targetId)}`);
  if (f.outcome) where.push(`outcome = ${p(f.outcome)}`);
  if (f.from) where.push(`at >= ${p(f.from)}::timestamptz`);
  if (f.to) where.push(`at < ${p(f.to)}::timestamptz`);
  return where;
}

/**
 * One page of the log, newest first (ordered by the table's columns: the output's `id` is text), after `after` (keyset on (at, id) desc — the audit_log_at index; the target
 * filter uses audit_log_target, the actor filter audit_log_actor).
 */
export async function listAudit(
  db: Queryable,
  f: AuditFilter,
  page: { after?: AuditKey | null; limit: number },
): Promise<AuditRow[]> {
  const params: unknown[] = [];
  const where = whereOf(f, params);
  if (page.after) {
    params.push(page.after.at, page.after.id);
    where.push(`(at, id) < ($${params.length - 1}::timestamptz, $${params.length}::bigint)`);
  }
  params.push(page.limit);
  const { rows } = await db.query<AuditRow>(
    `select id::text, at, to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at_key,
            actor_id, actor_login, action, outcome, target_kind, target_id, detail, ip, user_agent
       from audit_log${where.length ? ` where ${where.join(' and ')}` : ''}
      order by audit_log.at desc, audit_log.id desc limit $${params.length}`,
    params,
  );
  return rows;
}

export function toAuditItem(r: AuditRow): AuditItem {
  return {
    id: r.id,
    at: r.at.toISOString(),
    actorId: r.actor_id,
    actorLogin: r.actor_login,
    action: r.action,
    outcome: r.outcome,
    targetKind: r.target_kind,
    targetId: r.target_id,
    detail: r.detail,
    ip: r.ip,
    userAgent: r.user_agent,
  };
}
