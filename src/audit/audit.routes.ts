import { requireRole } from '../auth/guard.js';
import type { Queryable } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { sendCsv } from '../platform/http/csv.js';
import { type App, errorResponses } from '../platform/http/types.js';
import { audit, auditContext } from './audit.js';
import {
  type AuditFilter,
  type AuditKey,
  type AuditRow,
  listAudit,
  toAuditItem,
} from './audit.repository.js';
import { AuditCsvQuery, AuditPage, AuditQuery } from './audit.schema.js';

export interface AuditRoutesOptions {
  db: Queryable;
}

/** Admins read the audit log: filtered, newest first, keyset-paginated; and download it as CSV (itself audited). */
export async function auditRoutes(app: App, opts: AuditRoutesOptions): Promise<void> {
  const { db } = opts;
  const admin = { preHandler: requireRole('admin') };

  app.get(
    '/v1/admin/audit',
    {
      ...admin,
      schema: {
        tags: ['audit'],
        summary: 'Admins: the audit log of staff actions, newest first; keyset-paginated',
        security: [{ bearer: [] }],
        querystring: AuditQuery,
        response: { 200: AuditPage, ...errorResponses(400, 401, 403) },
      },
    },
    async (request): Promise<AuditPage> => {
      const { cursor, limit, ...filter } = request.query;
      const rows = await listAudit(db, filterOf(filter), { after: decodeCursor(cursor), limit: limit + 1 });
      const page = rows.slice(0, limit);
      return {
        items: page.map(toAuditItem),
        nextCursor: rows.length > limit ? encodeCursor(keyOf(page.at(-1)!)) : null,
      };
    },
  );

  app.get(
    '/v1/admin/audit.csv',
    {
      ...admin,
      schema: {
        tags: ['audit'],
        summary: 'Admins: the audit log as CSV, same filters, streamed; the download is itself audited',
        security: [{ bearer: [] }],
        querystring: AuditCsvQuery,
        produces: ['text/csv'],
        response: { ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const filter = filterOf(request.query);
      await audit(db, {
        ...auditContext(request),
        action: 'export',
        targetKind: 'audit_log',
        detail: { format: 'csv', filter },
      });
      return sendCsv<AuditRow, AuditKey>(reply, {
        filename: 'audit.csv',
        header: [
          'at',
          'id',
          'actor_id',
          'actor_login',
          'action',
          'outcome',
          'target_kind',
          'target_id',
          'detail',
          'ip',
          'user_agent',
        ],
        pageSize: 1000,
        fetchPage: (after, limit) => listAudit(db, filter, { after, limit }),
        keyOf,
        toFields: (r) => [
          r.at_key,
          r.id,
          r.actor_id,
          r.actor_login,
          r.action,
          r.outcome,
          r.target_kind,
          r.target_id,
          JSON.stringify(r.detail),
          r.ip,
          r.user_agent,
        ],
      });
    },
  );
}

function filterOf(q: AuditCsvQuery): AuditFilter {
  if (q.from && q.to && Date.parse(q.from) > Date.parse(q.to))
    throw new AppError('VALIDATION_FAILED', { field: 'to', message: 'to must not be before from' });
  const f: AuditFilter = {};
  for (const k of ['actor', 'action', 'targetKind', 'targetId', 'outcome', 'from', 'to'] as const)
    if (q[k] !== undefined) f[k] = q[k];
  return f;
}

const keyOf = (r: AuditRow): AuditKey => ({ at: r.at_key, id: r.id });

function encodeCursor(k: AuditKey): string {
  return Buffer.from(JSON.stringify(k)).toString('base64url');
}

function decodeCursor(cursor: string | undefined): AuditKey | null {
  if (!cursor) return null;
  try {
    const k = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as AuditKey;
    if (
      typeof k.at === 'string' &&
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(k.at) &&
      typeof k.id === 'string' &&
      /^\d{1,18}$/.test(k.id)
    )
      return k;
  } catch {
    // fall through to the error below
  }
  throw new AppError('VALIDATION_FAILED', {
    field: 'cursor',
    message: 'cursor is not one this API returned',
  });
}
