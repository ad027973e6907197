import { audit, auditContext } from '../audit/audit.js';
import { principalOf, requireRole } from '../auth/guard.js';
import { type Pool, withTransaction } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { type App, errorResponses } from '../platform/http/types.js';
import { evidenceOfReport } from '../review/review.repository.js';
import { REVIEWERS } from '../review/review.roles.js';
import { assertReportInUnit } from '../review/review.scope.js';
import { redactionsOf, replaceRedactions } from './driver.repository.js';
import { RedactionsBody, RedactionsParams, RedactionsResponse } from './driver.schema.js';

/**
 * Inspectors mark the regions of an evidence file that drivers must not see (bystanders' faces, other cars'
 * plates). The set is replaced whole and audited; the driver's copy made from it is derived afresh on the next view.
 */
export async function redactionRoutes(app: App, opts: { db: Pool }): Promise<void> {
  const { db } = opts;
  app.put(
    '/v1/review/:id/evidence/:evidenceId/redactions',
    {
      preHandler: requireRole(...REVIEWERS),
      schema: {
        tags: ['review'],
        summary:
          'Regions of an evidence file to blur in the copy drivers see (fractions of width and height)',
        security: [{ bearer: [] }],
        params: RedactionsParams,
        body: RedactionsBody,
        response: { 200: RedactionsResponse, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { id, evidenceId } = request.params;
      const { regions } = request.body;
      regions.forEach((r, i) => {
        // A little slack for fractions rounded by the client.
        if (r.x + r.w > 1.0001 || r.y + r.h > 1.0001)
          throw new AppError('VALIDATION_FAILED', {
            field: `regions/${i}`,
            message: 'A region must lie inside the picture.',
          });
      });
      await assertReportInUnit(db, principalOf(request), id);
      if (!(await evidenceOfReport(db, id, evidenceId))) throw new AppError('EVIDENCE_FILE_NOT_FOUND');
      await withTransaction(db, async (trx) => {
        await replaceRedactions(trx, { reportId: id, evidenceId, regions, staffId: principalOf(request).id });
        await audit(trx, {
          ...auditContext(request),
          action: 'evidence_redacted',
          targetKind: 'report',
          targetId: id,
          detail: { evidenceId, regions: regions.length },
        });
      });
      const saved = await redactionsOf(db, id, evidenceId);
      return { regions: saved.regions, markedAt: saved.markedAt?.toISOString() ?? null };
    },
  );
}
