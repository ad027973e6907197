import type { FastifyRequest } from 'fastify';
import type { Queryable } from '../platform/db/pool.js';

import type { AuditAction } from './actions.js';

export { AUDIT_ACTIONS, type AuditAction } from './actions.js';

export type AuditOutcome = 'ok' | 'denied' | 'failed';

export interface AuditEntry {
  actorId?: string | null;
  actorLogin?: string | null;
  action: AuditAction;
  outcome?: AuditOutcome;
  targetKind?: string;
  targetId?: string;
  /** What happened, for the record. Never a citizen's identity (phone, citizen id): staff read this log. */
  detail?: Record<string, unknown>;
  ip?: string;
  userAgent?: string;
}

/** Keys that would put a citizen's identity into a log staff can read; dropped whatever the caller passed. */
const CITIZEN_KEYS = new Set(['phone', 'citizenId', 'citizen_id', 'citizenPhone', 'citizen_phone']);

function scrub(detail: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!detail) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(detail)) if (!CITIZEN_KEYS.has(k) && v !== undefined) out[k] = v;
  return out;
}

/**
 * Appends one row to audit_log (append-only: triggers refuse UPDATE, DELETE and TRUNCATE). Pass the action's
 * transaction as `db` so the record commits or rolls back with the action itself. The actor's login is kept as it
 * was at the time (looked up from the id when not given), so the record survives a rename.
 */
export async function audit(db: Queryable, e: AuditEntry): Promise<void> {
  await db.query(
    `insert into audit_log (actor_id, actor_login, action, outcome, target_kind, target_id, detail, ip, user_agent)
     values ($1::uuid, coalesce($2, (select login from staff where id = $1::uuid)), $3, $4, $5, $6, $7, $8, $9)`,
    [
      e.actorId ?? null,
      e.actorLogin ?? null,
      e.action,
      e.outcome ?? 'ok',
      e.targetKind ?? null,
      e.targetId ?? null,
      JSON.stringify(scrub(e.detail)),
      e.ip ?? null,
      e.userAgent?.slice(0, 512) ?? null,
    ],
  );
}

/** Where a request came from: its address and browser (for the audit log and a session's record). */
export function requestOrigin(request: FastifyRequest): { ip: string; userAgent?: string } {
  const ua = request.headers['user-agent'];
  return { ip: request.ip, ...(typeof ua === 'string' && ua ? { userAgent: ua.slice(0, 512) } : {}) };
}

/** Who did it and from where, for a request: spread into an AuditEntry. */
export function auditContext(request: FastifyRequest): { actorId?: string; ip: string; userAgent?: string } {
  return { ...(request.principal ? { actorId: request.principal.id } : {}), ...requestOrigin(request) };
}
