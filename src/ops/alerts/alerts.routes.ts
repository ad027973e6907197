import { Type as T } from '@sinclair/typebox';
import { requireRole } from '../../auth/guard.js';
import type { Queryable } from '../../platform/db/pool.js';
import { type App, errorResponses } from '../../platform/http/types.js';
import { listAlertHistory } from './history.js';
import type { AlertManager } from './manager.js';
import { SEVERITIES } from './rules.js';

const Labels = T.Record(T.String(), T.String());
const Severity = T.Union(SEVERITIES.map((s) => T.Literal(s)));
const Timestamp = T.String({ format: 'date-time' });

const ActiveAlert = T.Object({
  rule: T.String(),
  labels: Labels,
  severity: Severity,
  state: T.Union([T.Literal('pending'), T.Literal('firing')]),
  value: T.Union([T.Number(), T.Null()]),
  summary: T.String(),
  activeAt: Timestamp,
  firedAt: T.Union([Timestamp, T.Null()]),
});

const RuleStatus = T.Object({
  name: T.String(),
  expr: T.String(),
  forSeconds: T.Number(),
  severity: Severity,
  sinks: T.Array(T.String()),
  lastEvaluatedAt: T.Union([Timestamp, T.Null()]),
  values: T.Array(T.Object({ labels: Labels, value: T.Number() }), {
    description: 'The expression per label set at the last evaluation; empty = no value (e.g. no traffic)',
  }),
});

const HistoryRow = T.Object({
  id: T.Integer(),
  rule: T.String(),
  labels: Labels,
  severity: Severity,
  state: T.Union([T.Literal('firing'), T.Literal('resolved')]),
  value: T.Union([T.Number(), T.Null()]),
  summary: T.String(),
  at: Timestamp,
});

/** The operator's alert views: what is pending or firing now with every rule's last value, and the history. */
export function alertRoutes(app: App, deps: { manager: AlertManager; pool: Queryable }): void {
  const admin = { preHandler: requireRole('admin') };
  app.get(
    '/v1/ops/alerts',
    {
      ...admin,
      schema: {
        tags: ['ops'],
        summary: "Alerts pending or firing in this process, and each rule's last value",
        security: [{ bearer: [] }],
        response: {
          200: T.Object({ alerts: T.Array(ActiveAlert), rules: T.Array(RuleStatus) }),
          ...errorResponses(401, 403),
        },
      },
    },
    async () => ({
      alerts: deps.manager.currentAlerts().map((a) => ({
        ...a,
        activeAt: a.activeAt.toISOString(),
        firedAt: a.firedAt?.toISOString() ?? null,
      })),
      rules: deps.manager.ruleStatuses().map((r) => ({
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
      ...admin,
      schema: {
        tags: ['ops'],
        summary: 'Alerts that started firing or resolved, newest first',
        security: [{ bearer: [] }],
        querystring: T.Object({
          limit: T.Integer({ minimum: 1, maximum: 500, default: 50 }),
          before: T.Optional(T.Integer({ minimum: 1, description: 'The last id of the previous page' })),
          rule: T.Optional(T.String({ minLength: 1, maxLength: 100 })),
        }),
        response: {
          200: T.Object({
            items: T.Array(HistoryRow),
            nextBefore: T.Union([T.Integer(), T.Null()], {
              description: 'Pass as `before` for the next page',
            }),
          }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      const { limit, before, rule } = request.query;
      const rows = await listAlertHistory(deps.pool, { limit, before, rule });
      return {
        items: rows.map((r) => ({ ...r, at: r.at.toISOString() })),
        nextBefore: rows.length === limit ? rows[rows.length - 1]!.id : null,
      };
    },
  );
}
