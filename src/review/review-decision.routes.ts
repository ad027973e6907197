import { audit, auditContext } from '../audit/audit.js';
import { listAudit } from '../audit/audit.repository.js';
import { principalOf, requireRole } from '../auth/guard.js';
import type { BlobStore } from '../evidence/blob-store.js';
import { thumbnailOf } from '../evidence/evidence.repository.js';
import { type Pool, withTransaction } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { parseRange } from '../platform/http/range.js';
import { type App, errorResponses } from '../platform/http/types.js';
import type { ReferenceData } from '../reference/reference.js';
import { findReport } from '../reports/reports.repository.js';
import { evidenceOfReport, evidenceViewsOf, recordEvidenceView } from './review.repository.js';
import { REVIEWERS, SUPERVISORS } from './review.roles.js';
import {
  AuditResponse,
  DecisionBody,
  DecisionResponse,
  EvidenceParams,
  EvidenceQuery,
  ReviewDetail,
  ReviewIdParams,
} from './review.schema.js';
import { assertReportInUnit } from './review.scope.js';
import { decide, loadReviewCase, type ReviewConfig } from './review.service.js';
import { toAudit, toReviewDetail } from './review.view.js';

export interface ReviewDecisionRoutesOptions {
  db: Pool;
  reference: ReferenceData;
  blobs: Pick<BlobStore, 'read'>;
  config: ReviewConfig;
}

/**
 * One report in the inspectors' console: what the checks found, the evidence (every view audited, supervisors see
 * who looked), and the decision on a report the inspector holds.
 */
export async function reviewDecisionRoutes(app: App, opts: ReviewDecisionRoutesOptions): Promise<void> {
  const { db, reference, blobs, config } = opts;
  const reviewers = { preHandler: requireRole(...REVIEWERS) };
  const supervisors = { preHandler: requireRole(...SUPERVISORS) };

  app.get(
    '/v1/review/:id',
    {
      ...reviewers,
      schema: {
        tags: ['review'],
        summary:
          'A report as the inspector sees it: evidence, findings, related reports (never the reporter)',
        security: [{ bearer: [] }],
        params: ReviewIdParams,
        response: { 200: ReviewDetail, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      await assertReportInUnit(db, principalOf(request), request.params.id);
      return toReviewDetail(await loadReviewCase(db, request.params.id), reference, principalOf(request).id);
    },
  );

  app.get(
    '/v1/review/:id/evidence/:evidenceId',
    {
      ...reviewers,
      schema: {
        tags: ['review'],
        summary:
          'An evidence file, its thumbnail or its poster frame; every view is audited; Range supported',
        security: [{ bearer: [] }],
        params: EvidenceParams,
        querystring: EvidenceQuery,
        response: { ...errorResponses(400, 401, 403, 404, 416) },
      },
    },
    async (request, reply) => {
      const { id, evidenceId } = request.params;
      const variant = request.query.variant;
      await assertReportInUnit(db, principalOf(request), id);
      const e = await evidenceOfReport(db, id, evidenceId);
      const sha = !e
        ? null
        : variant === 'original'
          ? e.sha256
          : variant === 'thumbnail'
            ? e.thumb_sha256
            : e.poster_sha256;
      if (!e || !sha) throw new AppError('EVIDENCE_FILE_NOT_FOUND');
      await withTransaction(db, async (trx) => {
        await recordEvidenceView(trx, {
          staffId: principalOf(request).id,
          reportId: id,
          evidenceId,
          variant,
          ip: request.ip ?? null,
        });
        await audit(trx, {
          ...auditContext(request),
          action: 'evidence_viewed',
          targetKind: 'report',
          targetId: id,
          detail: { evidenceId, variant },
        });
      });
      reply.header('cache-control', 'private, no-store').header('x-content-type-options', 'nosniff');
      if (variant === 'thumbnail') {
        // Kept in PostgreSQL since migration 0014; earlier ones are files in the blob store.
        const stored = await thumbnailOf(db, sha);
        return reply.type('image/jpeg').send(stored ?? blobs.read(sha));
      }
      if (variant !== 'original') return reply.type('image/jpeg').send(blobs.read(sha));
      reply.type(e.mime).header('accept-ranges', 'bytes');
      const range = parseRange(request.headers.range, e.bytes);
      if (range === 'unsatisfiable') {
        reply.header('content-range', `bytes */${e.bytes}`);
        throw new AppError('RANGE_NOT_SATISFIABLE');
      }
      if (!range) return reply.header('content-length', e.bytes).send(blobs.read(sha));
      return reply
        .status(206)
        .header('content-range', `bytes ${range.start}-${range.end}/${e.bytes}`)
        .header('content-length', range.end - range.start + 1)
        .send(blobs.read(sha, range));
    },
  );

  app.get(
    '/v1/review/:id/audit',
    {
      ...supervisors,
      schema: {
        tags: ['review'],
        summary: "Supervisors: who opened this report's evidence, and every staff action on it (audit log)",
        security: [{ bearer: [] }],
        params: ReviewIdParams,
        response: { 200: AuditResponse, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      if (!(await findReport(db, request.params.id))) throw new AppError('REPORT_NOT_FOUND');
      const [views, entries] = await Promise.all([
        evidenceViewsOf(db, request.params.id),
        listAudit(db, { targetKind: 'report', targetId: request.params.id }, { limit: 200 }),
      ]);
      return toAudit(views, entries);
    },
  );

  app.post(
    '/v1/review/:id/decision',
    {
      ...reviewers,
      schema: {
        tags: ['review'],
        summary:
          'Approve, reject with a catalogued reason, or ask the citizen for more — on a report you hold',
        security: [{ bearer: [] }],
        params: ReviewIdParams,
        body: DecisionBody,
        response: { 200: DecisionResponse, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const b = request.body;
      const me = principalOf(request).id;
      await assertReportInUnit(db, principalOf(request), request.params.id);
      if (b.decision === 'reject' && !b.reasonCode)
        throw new AppError('VALIDATION_FAILED', {
          field: 'reasonCode',
          message: 'A rejection needs a reasonCode.',
        });
      if (b.decision === 'needs_info' && !b.note)
        throw new AppError('VALIDATION_FAILED', {
          field: 'note',
          message: 'Asking for more needs a note telling the citizen what to add.',
        });
      const status = await decide(
        db,
        me,
        request.params.id,
        b.decision === 'reject'
          ? { decision: 'reject', reasonCode: b.reasonCode!, note: b.note }
          : b.decision === 'needs_info'
            ? { decision: 'needs_info', note: b.note! }
            : { decision: 'approve', note: b.note },
        config,
        auditContext(request),
      );
      return { id: request.params.id, status };
    },
  );
}
