import { requireRole } from '../../auth/guard.js';
import type { Queryable } from '../../platform/db/pool.js';
import { type App, errorResponses } from '../../platform/http/types.js';
import { AlertHistory, AlertHistoryQuery, AlertsNow } from './alerts.schema.js';
import { listAlertHistory } from './history.js';
import type { AlertManager } from './manager.js';

export interface AlertRoutesOptions {
  manager: Pick<AlertManager, 'currentAlerts' | 'ruleStatuses'>;
  db: Queryable;
}

/**
 * The alert views of operators and supervisors: what is pending or firing now with every rule's last value, and
 * the history.
 */
export async function alertRoutes(app: App, opts: AlertRoutesOptions): Promise<void> {
  const { manager, db } = opts;
  // Supervisors see them too: a review deadline breach is theirs to act on.
  const supervisors = { preHandler: requireRole('supervisor', 'admin') };
  app.get(
    '/v1/ops/alerts',
    {
      ...supervisors,
      schema: {
        tags: ['ops'],
        summary: "Alerts pending or firing in this process, and each rule's last value",
        security: [{ bearer: [] }],
        response: { 200: AlertsNow, ...errorResponses(401, 403) },
      },
    },
    async (): Promise<AlertsNow> => ({
      alerts: manager.currentAlerts().map((a) => ({
        ...a,
        activeAt: a.activeAt.toISOString(),
        firedAt: a.firedAt?.toISOString() ?? null,
      })),
      rules: manager.ruleStatuses().map((r) => ({
        name: r.name,
        expr: r.expr,
        forSeconds: r.forMs / 1000,
        severity: r.severity,
        sinks: r.sinks,
        lastEvaluatedAt: r.lastEvaluatedAt?.toISOString() ?? null,
        values: r.values,
      })),
    }),
  );

  app.get(
    '/v1/ops/alerts/history',
    {
      ...supervisors,
      schema: {
        tags: ['ops'],
        summary: 'Alerts that started firing or resolved, newest first',
        security: [{ bearer: [] }],
        querystring: AlertHistoryQuery,
        response: { 200: AlertHistory, ...errorResponses(400, 401, 403) },
      },
    },
    async (request): Promise<AlertHistory> => {
      const { limit, before, rule } = request.query;
      const rows = await listAlertHistory(db, { limit, before, rule });
      return {
        items: rows.map((r) => ({ ...r, at: r.at.toISOString() })),
        nextBefore: rows.length === limit ? rows[rows.length - 1]!.id : null,
      };
    },
  );
}
