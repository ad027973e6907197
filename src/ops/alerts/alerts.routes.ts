import { requireRole } from '../../auth/guard.js';
import type { Queryable } from '../../platform/db/pool.js';
import { type App, errorResponses } from '../../platform/http/types.js';
import { AlertHistory, AlertHistoryQuery, AlertsNow } from './alerts.schema.js';
import { listAlertHistory } from './history.js';
import type { AlertManager } from './manager.js';

export interface AlertRoutesOptions {
  manager: Pick<AlertManager, 'currentAlerts' | 'ruleStatuses'>;
  db: Queryable;
  /** In a cluster, what the elected evaluator last published (this process may not be it). */
  shared?: { read(): Promise<AlertsNow | null> } | null;
}

/** The view of the alerts now, as this process's manager holds it. */
export function alertsNow(manager: AlertRoutesOptions['manager']): AlertsNow {
  return {
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
  };
}

const evaluatedAt = (v: AlertsNow) => v.rules[0]?.lastEvaluatedAt ?? '';

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
        summary:
          "Alerts pending or firing, and each rule's last value (with REDIS_URL, the cluster's, from its evaluator)",
        security: [{ bearer: [] }],
        response: { 200: AlertsNow, ...errorResponses(401, 403) },
      },
    },
    async (): Promise<AlertsNow> => {
      const local = alertsNow(manager);
      // The evaluator's newer view when another process is it (the cluster's alerts, wherever this request lands).
      const shared = await opts.shared?.read().catch(() => null);
      return shared && evaluatedAt(shared) > evaluatedAt(local) ? shared : local;
    },
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
