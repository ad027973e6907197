import { Type as T } from '@sinclair/typebox';
import type { Deps } from '../app/deps.js';
import { principalOf, requireRole } from '../auth/guard.js';
import { thumbnailOf } from '../evidence/evidence.repository.js';
import { AppError } from '../platform/errors/catalog.js';
import { type App, errorResponses } from '../platform/http/types.js';
import { REJECTION_REASONS, REVIEW_REJECTION_REASONS } from '../reports/reasons.js';
import { evidenceOfReports, findReport, type ReportRow } from '../reports/reports.repository.js';
import { toView } from '../reports/reports.view.js';
import {
  evidenceFilesOf,
  evidenceOfReport,
  evidenceViewsOf,
  type QueueCursor,
  recordEvidenceView,
  relatedReports,
  reviewQueue,
  slaBreaches,
  workload,
} from './review.repository.js';
import {
  AuditResponse,
  DecisionBody,
  EvidenceParams,
  EvidenceQuery,
  NextBody,
  QueueQuery,
  QueueResponse,
  ReassignBody,
  ReviewDetail,
  WorkloadResponse,
} from './review.schema.js';
import { claimNext, decide, reassign, release, releaseLapsedLeases } from './review.service.js';

const IdParams = T.Object({ id: T.String({ format: 'uuid' }) });
const REVIEWERS = ['inspector', 'supervisor', 'admin'] as const;
const SUPERVISORS = ['supervisor', 'admin'] as const;

const evidenceUrl = (reportId: string, evidenceId: string, variant: string) =>
  `/v1/review/${reportId}/evidence/${evidenceId}${variant === 'original' ? '' : `?variant=${variant}`}`;

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

function leaseOf(r: ReportRow, me: string) {
  const live =
    r.status === 'in_review' && r.lease_owner && r.lease_expires_at && r.lease_expires_at >= new Date();
  return live
    ? {
        inspectorId: r.lease_owner!,
        mine: r.lease_owner === me,
        expiresAt: r.lease_expires_at!.toISOString(),
      }
    : null;
}

/**
 * The inspectors' console: the prioritised queue, claiming with a lease, the evidence (every view audited), the
 * decision; and for supervisors, reassignment, workload and SLA breaches. The reporter's identity is never part of
 * any of it.
 */
export function reviewRoutes(app: App, deps: Deps): void {
  const { pool, config } = deps;
  const reviewers = { preHandler: requireRole(...REVIEWERS) };
  const supervisors = { preHandler: requireRole(...SUPERVISORS) };

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
      // Reads are frequent, so lapsed leases return to the queue here rather than on a timer.
      await releaseLapsedLeases(pool);
      const rows = await reviewQueue(
        pool,
        {
          regionId: q.region,
          districtId: q.district,
          violationCode: q.violation,
          status: q.status,
          overdue: q.overdue,
        },
        { after: decodeCursor(q.cursor), limit: q.limit + 1 },
      );
      const page = rows.slice(0, q.limit);
      const evidence = await evidenceOfReports(
        pool,
        page.map((r) => r.id),
      );
      const now = Date.now();
      return {
        items: page.map((r) => {
          const first = evidence.get(r.id)?.[0];
          return {
            id: r.id,
            status: r.status as 'awaiting_review' | 'in_review',
            violation: {
              code: r.violation_code,
              name: deps.reference.violationType(r.violation_code)?.name ?? {
                en: r.violation_code,
                uz: null,
                ru: null,
              },
            },
            plate: r.plate,
            regionId: r.region_id,
            districtId: r.district_id,
            priority: r.priority ?? 0,
            slaDueAt: r.sla_due_at?.toISOString() ?? null,
            overdue: r.sla_due_at !== null && r.sla_due_at.getTime() < now,
            lease: leaseOf(r, me),
            findings: (r.findings as { type: string }[]).map((f) => f.type),
            thumbnailUrl: first ? evidenceUrl(r.id, first.id, 'thumbnail') : null,
            receivedAt: r.received_at.toISOString(),
          };
        }),
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
        response: { 200: ReviewDetail, 204: T.Null(), ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const me = principalOf(request).id;
      const f = request.body ?? {};
      await releaseLapsedLeases(pool);
      const id = await claimNext(
        pool,
        me,
        { regionId: f.region, districtId: f.district, violationCode: f.violation },
        config,
      );
      if (!id) return reply.status(204).send(null);
      return detail(id, me);
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
        response: {
          200: T.Object({
            items: T.Array(
              T.Object({
                code: T.String(),
                text: T.Object({ uz: T.String(), ru: T.String(), en: T.String() }),
              }),
            ),
          }),
          ...errorResponses(401, 403),
        },
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
        response: { 200: WorkloadResponse, ...errorResponses(401, 403) },
      },
    },
    async () => {
      const [people, breaches, counts] = await Promise.all([
        workload(pool),
        slaBreaches(pool, 100),
        pool.query<{ waiting: number; in_review: number; overdue: number }>(
          `select count(*) filter (where status = 'awaiting_review' or lease_expires_at < now())::int as waiting,
                  count(*) filter (where status = 'in_review' and lease_expires_at >= now())::int as in_review,
                  count(*) filter (where sla_due_at < now())::int as overdue
             from reports where status in ('awaiting_review', 'in_review')`,
        ),
      ]);
      const c = counts.rows[0]!;
      return {
        inspectors: people.map((p) => ({
          id: p.staff_id,
          login: p.login,
          displayName: p.display_name,
          role: p.role,
          holding: p.holding,
          decided24h: { approve: p.approved_24h, reject: p.rejected_24h, needsInfo: p.needs_info_24h },
        })),
        queue: { waiting: c.waiting, inReview: c.in_review, overdue: c.overdue },
        slaBreaches: breaches.map((b) => ({
          reportId: b.id,
          status: b.status,
          kind: b.kind,
          dueAt: b.due.toISOString(),
        })),
      };
    },
  );

  app.get(
    '/v1/review/:id',
    {
      ...reviewers,
      schema: {
        tags: ['review'],
        summary:
          'A report as the inspector sees it: evidence, findings, related reports (never the reporter)',
        security: [{ bearer: [] }],
        params: IdParams,
        response: { 200: ReviewDetail, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => detail(request.params.id, principalOf(request).id),
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
      const e = await evidenceOfReport(pool, id, evidenceId);
      const sha = !e
        ? null
        : variant === 'original'
          ? e.sha256
          : variant === 'thumbnail'
            ? e.thumb_sha256
            : e.poster_sha256;
      if (!e || !sha) throw new AppError('EVIDENCE_FILE_NOT_FOUND');
      await recordEvidenceView(pool, {
        staffId: principalOf(request).id,
        reportId: id,
        evidenceId,
        variant,
        ip: request.ip ?? null,
      });
      reply.header('cache-control', 'private, no-store').header('x-content-type-options', 'nosniff');
      if (variant === 'thumbnail') {
        // Kept in PostgreSQL since migration 0014; earlier ones are files in the blob store.
        const stored = await thumbnailOf(pool, sha);
        return reply.type('image/jpeg').send(stored ?? deps.blobs.read(sha));
      }
      if (variant !== 'original') return reply.type('image/jpeg').send(deps.blobs.read(sha));
      reply.type(e.mime).header('accept-ranges', 'bytes');
      const range = parseRange(request.headers.range, e.bytes);
      if (range === 'unsatisfiable') {
        reply.header('content-range', `bytes */${e.bytes}`);
        throw new AppError('RANGE_NOT_SATISFIABLE');
      }
      if (!range) return reply.header('content-length', e.bytes).send(deps.blobs.read(sha));
      return reply
        .status(206)
        .header('content-range', `bytes ${range.start}-${range.end}/${e.bytes}`)
        .header('content-length', range.end - range.start + 1)
        .send(deps.blobs.read(sha, range));
    },
  );

  app.get(
    '/v1/review/:id/audit',
    {
      ...supervisors,
      schema: {
        tags: ['review'],
        summary: "Supervisors: who opened this report's evidence, and when",
        security: [{ bearer: [] }],
        params: IdParams,
        response: { 200: AuditResponse, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      if (!(await findReport(pool, request.params.id))) throw new AppError('REPORT_NOT_FOUND');
      const views = await evidenceViewsOf(pool, request.params.id);
      return {
        views: views.map((v) => ({
          staffId: v.staff_id,
          login: v.login,
          evidenceId: v.evidence_id,
          variant: v.variant,
          at: v.at.toISOString(),
        })),
      };
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
        params: IdParams,
        body: DecisionBody,
        response: {
          200: T.Object({ id: T.String({ format: 'uuid' }), status: T.String() }),
          ...errorResponses(400, 401, 403, 404, 409),
        },
      },
    },
    async (request) => {
      const b = request.body;
      const me = principalOf(request).id;
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
        pool,
        me,
        request.params.id,
        b.decision === 'reject'
          ? { decision: 'reject', reasonCode: b.reasonCode!, note: b.note }
          : b.decision === 'needs_info'
            ? { decision: 'needs_info', note: b.note! }
            : { decision: 'approve', note: b.note },
        config,
      );
      return { id: request.params.id, status };
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
        params: IdParams,
        response: { 204: T.Null(), ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await release(pool, principalOf(request).id, request.params.id);
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
        params: IdParams,
        body: ReassignBody,
        response: { 204: T.Null(), ...errorResponses(400, 401, 403, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      await reassign(pool, principalOf(request).id, request.params.id, request.body.inspectorId, config);
      return reply.status(204).send(null);
    },
  );

  async function detail(id: string, me: string) {
    const report = await findReport(pool, id);
    if (!report) throw new AppError('REPORT_NOT_FOUND');
    const [files, related] = await Promise.all([evidenceFilesOf(pool, id), relatedReports(pool, report)]);
    return {
      report: toView(report, deps.reference, files, true),
      lease: leaseOf(report, me),
      evidence: files.map((e) => ({
        id: e.id,
        kind: e.kind,
        mime: e.mime,
        bytes: e.bytes,
        width: e.width,
        height: e.height,
        durationMs: e.duration_ms,
        cameraTime: e.taken_at?.toISOString() ?? null,
        cameraGps: e.gps_lat !== null && e.gps_lon !== null ? { lat: e.gps_lat, lon: e.gps_lon } : null,
        camera: e.camera,
        sharpness: e.sharpness,
        brightness: e.brightness,
        urls: {
          original: evidenceUrl(id, e.id, 'original'),
          thumbnail: e.thumb_sha256 ? evidenceUrl(id, e.id, 'thumbnail') : null,
          poster: e.poster_sha256 ? evidenceUrl(id, e.id, 'poster') : null,
        },
      })),
      related,
      rejectionReasons: [...REVIEW_REJECTION_REASONS],
    };
  }
}

/** One `bytes=a-b` range (what video players send); several ranges are served as the whole file. */
function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}
