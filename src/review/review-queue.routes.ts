import { auditContext } from '../audit/audit.js';
import { principalOf, requireRole } from '../auth/guard.js';
import type { Pool } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { type App, errorResponses } from '../platform/http/types.js';
import type { ReferenceData } from '../reference/reference.js';
import { REJECTION_REASONS, REVIEW_REJECTION_REASONS } from '../reports/reasons.js';
import { evidenceOfReports, type ReportRow } from '../reports/reports.repository.js';
import { staffUnitOf } from '../staff/units.repository.js';
import { deadlineEscalator } from './deadlines.js';
import { type QueueCursor, queueCounts, reviewQueue, slaBreaches, workload } from './review.repository.js';
import { REVIEWERS, SUPERVISORS } from './review.roles.js';
import {
  NextBody,
  NoContent,
  QueueQuery,
  QueueResponse,
  ReasonsResponse,
  ReassignBody,
  ReviewDetail,
  ReviewIdParams,
  WorkloadQuery,
  WorkloadResponse,
} from './review.schema.js';
import { assertReportInUnit, inUnit, queueScope } from './review.scope.js';
import {
  claimNext,
  loadReviewCase,
  type ReviewConfig,
  reassign,
  release,
  releaseLapsedLeases,
} from './review.service.js';
import { toQueueItem, toReviewDetail, toWorkload } from './review.view.js';

export interface ReviewQueueRoutesOptions {
  db: Pool;
  reference: ReferenceData;
  config: ReviewConfig;
}

/**
 * The inspectors' queue: the prioritised list, claiming the next report with a lease, handing it back; and for
 * supervisors, reassignment and the workload with SLA breaches. The reporter's identity is never part of any of it.
 */
export async function reviewQueueRoutes(app: App, opts: ReviewQueueRoutesOptions): Promise<void> {
  const { db, reference, config } = opts;
  const reviewers = { preHandler: requireRole(...REVIEWERS) };
  const supervisors = { preHandler: requireRole(...SUPERVISORS) };
  const escalate = deadlineEscalator(db, config);

  app.get(
    '/v1/review/queue',
    {
      ...reviewers,
      config: { shed: 'read' },
      schema: {
        tags: ['review'],
        summary: 'Open reports by priority, then deadline; keyset-paginated',
        security: [{ bearer: [] }],
        querystring: QueueQuery,
        response: { 200: QueueResponse, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const q = request.query;
      const me = principalOf(request).id;
      const scope = await queueScope(db, principalOf(request), q.unit);
      // Reads are frequent, so lapsed leases return to the queue here rather than on a timer.
      await releaseLapsedLeases(db);
      await escalate();
      const rows = await reviewQueue(
        db,
        {
          regionId: q.region,
          districtId: q.district,
          violationCode: q.violation,
          status: q.status,
          overdue: q.overdue,
          scope,
        },
        { after: decodeCursor(q.cursor), limit: q.limit + 1 },
      );
      const page = rows.slice(0, q.limit);
      const evidence = await evidenceOfReports(
        db,
        page.map((r) => r.id),
      );
      const now = Date.now();
      return {
        items: page.map((r) => toQueueItem(r, reference, evidence.get(r.id)?.[0], me, now)),
        nextCursor: rows.length > q.limit ? encodeCursor(page.at(-1)!) : null,
      };
    },
  );

  app.post(
    '/v1/review/next',
    {
      ...reviewers,
      // A bare POST (no body, no content type) means "no filters".
      preValidation: async (request) => {
        if (request.body == null && !request.headers['content-type']) request.body = {};
      },
      schema: {
        tags: ['review'],
        summary: `Claim the highest-priority free report with a lease (REVIEW_LEASE_MINUTES); 204 when none is free`,
        security: [{ bearer: [] }],
        body: NextBody,
        response: { 200: ReviewDetail, 204: NoContent, ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const me = principalOf(request).id;
      const f = request.body ?? {};
      const scope = await queueScope(db, principalOf(request), f.unit);
      await releaseLapsedLeases(db);
      await escalate();
      const id = await claimNext(
        db,
        me,
        { regionId: f.region, districtId: f.district, violationCode: f.violation, scope },
        config,
        auditContext(request),
      );
      if (!id) return reply.status(204).send(null);
      return toReviewDetail(await loadReviewCase(db, id), reference, me);
    },
  );

  app.get(
    '/v1/review/reasons',
    {
      ...reviewers,
      schema: {
        tags: ['review'],
        summary: 'Rejection reasons an inspector may give, with the texts the citizen will read',
        security: [{ bearer: [] }],
        response: { 200: ReasonsResponse, ...errorResponses(401, 403) },
      },
    },
    async () => ({
      items: REVIEW_REJECTION_REASONS.map((code) => ({ code, text: REJECTION_REASONS[code] })),
    }),
  );

  app.get(
    '/v1/review/workload',
    {
      ...supervisors,
      schema: {
        tags: ['review'],
        summary: 'Supervisors: what each inspector holds and decided in 24 h, the queue, and SLA breaches',
        security: [{ bearer: [] }],
        querystring: WorkloadQuery,
        response: { 200: WorkloadResponse, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      // A supervisor of a unit sees that unit's people and reports; an administrator all, or `?unit=`.
      const scope = await queueScope(db, principalOf(request), request.query.unit);
      const [people, breaches, counts] = await Promise.all([
        workload(db, scope),
        slaBreaches(db, 100, scope),
        queueCounts(db, scope),
      ]);
      return toWorkload(people, breaches, counts);
    },
  );

  app.post(
    '/v1/review/:id/release',
    {
      ...reviewers,
      schema: {
        tags: ['review'],
        summary: 'Hand a report you hold back to the queue without deciding',
        security: [{ bearer: [] }],
        params: ReviewIdParams,
        response: { 204: NoContent, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await assertReportInUnit(db, principalOf(request), request.params.id);
      await release(db, principalOf(request).id, request.params.id, auditContext(request));
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/v1/review/:id/reassign',
    {
      ...supervisors,
      schema: {
        tags: ['review'],
        summary: 'Supervisors: give an open report to an inspector (a fresh lease)',
        security: [{ bearer: [] }],
        params: ReviewIdParams,
        body: ReassignBody,
        response: { 204: NoContent, ...errorResponses(400, 401, 403, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      const reportUnit = await assertReportInUnit(db, principalOf(request), request.params.id);
      // Only to someone who may review it: of the report's unit, or of none (headquarters).
      if (reportUnit != null && !inUnit(await staffUnitOf(db, request.body.inspectorId), reportUnit))
        throw new AppError('STAFF_NOT_FOUND', {
          field: 'inspectorId',
          message: "This inspector belongs to another police unit than the report's.",
          details: { reason: 'outside_unit' },
        });
      await reassign(
        db,
        principalOf(request).id,
        request.params.id,
        request.body.inspectorId,
        config,
        auditContext(request),
      );
      return reply.status(204).send(null);
    },
  );
}

function encodeCursor(r: ReportRow): string {
  const c: QueueCursor = { priority: r.priority ?? 0, due: r.sla_due_at?.toISOString() ?? null, id: r.id };
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(cursor: string | undefined): QueueCursor | undefined {
  if (!cursor) return undefined;
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as QueueCursor;
    const ok =
      Number.isInteger(c.priority) &&
      Math.abs(c.priority) <= 1000 &&
      (c.due === null || !Number.isNaN(Date.parse(c.due))) &&
      /^[0-9a-f-]{36}$/i.test(c.id);
    if (ok) return c;
  } catch {
    // fall through to the error below
  }
  throw new AppError('VALIDATION_FAILED', {
    field: 'cursor',
    message: 'cursor is not one this API returned',
  });
}
