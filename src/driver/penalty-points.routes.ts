import { Type as T } from '@sinclair/typebox';
import { audit, auditContext } from '../audit/audit.js';
import { requireRole } from '../auth/guard.js';
import { type Pool, withTransaction } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { type App, errorResponses } from '../platform/http/types.js';
import type { ReferenceData } from '../reference/reference.js';

const Day = T.String({ format: 'date', description: 'First day in force, Asia/Tashkent, YYYY-MM-DD' });
const PointsRow = T.Object({
  violationCode: T.String(),
  effectiveFrom: Day,
  points: T.Integer(),
  source: T.Union([T.String(), T.Null()]),
});
const PointsBody = T.Object(
  {
    violationCode: T.String({ minLength: 1, maxLength: 64 }),
    effectiveFrom: Day,
    points: T.Integer({ minimum: 0, maximum: 100 }),
    source: T.Optional(T.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);

/**
 * E-jarimaball points per violation type, dated like BHM rates: a change takes effect from a day and leaves the
 * points of earlier cases as they were. Administrators only; every change audited.
 */
export async function penaltyPointsRoutes(
  app: App,
  opts: { db: Pool; reference: ReferenceData },
): Promise<void> {
  const { db, reference } = opts;
  const admin = { preHandler: requireRole('admin') };

  app.get(
    '/v1/admin/penalty-points',
    {
      ...admin,
      schema: {
        tags: ['reference'],
        summary: 'Penalty points of every violation type, each from the day it took effect',
        security: [{ bearer: [] }],
        response: { 200: T.Object({ items: T.Array(PointsRow) }), ...errorResponses(401, 403) },
      },
    },
    async () => {
      const { rows } = await db.query(
        `select violation_code as "violationCode", to_char(effective_from, 'YYYY-MM-DD') as "effectiveFrom",
                points, source
           from penalty_points order by violation_code, effective_from`,
      );
      return { items: rows };
    },
  );

  app.put(
    '/v1/admin/penalty-points',
    {
      ...admin,
      schema: {
        tags: ['reference'],
        summary:
          'Sets the points of a violation type from a day (a new dated row, or that day’s row changed)',
        security: [{ bearer: [] }],
        body: PointsBody,
        response: { 200: PointsRow, ...errorResponses(400, 401, 403, 422) },
      },
    },
    async (request) => {
      const b = request.body;
      if (!reference.violationType(b.violationCode))
        throw new AppError('VIOLATION_TYPE_UNKNOWN', { field: 'violationCode' });
      const source = b.source ?? null;
      await withTransaction(db, async (trx) => {
        await trx.query(
          `insert into penalty_points (violation_code, effective_from, points, source) values ($1, $2, $3, $4)
           on conflict (violation_code, effective_from) do update set points = excluded.points, source = excluded.source`,
          [b.violationCode, b.effectiveFrom, b.points, source],
        );
        await audit(trx, {
          ...auditContext(request),
          action: 'penalty_points_set',
          targetKind: 'violation_type',
          targetId: b.violationCode,
          detail: { effectiveFrom: b.effectiveFrom, points: b.points },
        });
      });
      return { violationCode: b.violationCode, effectiveFrom: b.effectiveFrom, points: b.points, source };
    },
  );
}
