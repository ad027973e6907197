import { createHash } from 'node:crypto';
import { perCitizenRateLimit, principalOf, requireRole, STAFF_ROLES } from '../auth/guard.js';
import type { Principal } from '../auth/tokens.js';
import type { Cache } from '../platform/cache/cache.js';
import type { Config } from '../platform/config/config.js';
import type { Pool } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { type App, errorResponses } from '../platform/http/types.js';
import { normalisePlate } from '../reference/plates.js';
import type { ReferenceData } from '../reference/reference.js';
import { firstBrokenLink, listEvents } from './events.js';
import type { GroupCommitIntake } from './intake.js';
import { CITIZEN_REPORTS_CACHE, FIRST_PAGE, REPORT_CACHE, TIMELINE_CACHE } from './reports.cache.js';
import {
  findReport,
  findReportWithEvidence,
  listCitizenReports,
  type ReportWithEvidence,
} from './reports.repository.js';
import {
  AcceptedResponse,
  EventsResponse,
  ListQuery,
  ReportIdParams,
  ReportListResponse,
  ReportResponse,
  SubmitHeaders,
  SubmitReportBody,
} from './reports.schema.js';
import { reportLinks, toCitizenEventView, toEventView, toView } from './reports.view.js';

const NO_HASH = Buffer.alloc(32);

export interface ReportRoutesOptions {
  db: Pool;
  cache: Cache;
  intake: Pick<GroupCommitIntake, 'submit'>;
  reference: ReferenceData;
  config: Pick<Config, 'RATE_LIMIT_SUBMIT_PER_MINUTE'>;
}

/** Filing a report, its status and timeline (cached, dropped on every transition), and the citizen's list. */
export async function reportRoutes(app: App, opts: ReportRoutesOptions): Promise<void> {
  const { db, cache, intake, reference, config } = opts;

  app.post(
    '/v1/reports',
    {
      preHandler: requireRole('citizen'),
      config: { ...perCitizenRateLimit('report', config.RATE_LIMIT_SUBMIT_PER_MINUTE), shed: 'write' },
      schema: {
        tags: ['reports'],
        summary: 'File a report; answered once it is durably stored and queued for checking',
        description:
          'Send an `Idempotency-Key` header to retry safely: the same key and body return the same report; the same key with another body is a 409.',
        security: [{ bearer: [] }],
        headers: SubmitHeaders,
        body: SubmitReportBody,
        response: { 202: AcceptedResponse, ...errorResponses(400, 401, 403, 409, 422, 429, 503) },
      },
    },
    async (request, reply) => {
      const citizen = principalOf(request);
      const body = request.body;
      const key = request.headers['idempotency-key'];
      if (!reference.violationType(body.violationCode)) {
        throw new AppError('VIOLATION_TYPE_UNKNOWN', { field: 'violationCode' });
      }
      const accepted = await intake.submit({
        citizenId: citizen.id,
        violationCode: body.violationCode,
        plate: normalisePlate(body.plate),
        plateInput: body.plate,
        lat: body.lat,
        lon: body.lon,
        incidentAt: new Date(body.incidentAt),
        description: body.description?.trim() || null,
        evidenceIds: body.evidenceIds,
        idempotencyKey: key ?? null,
        // Only a keyed request can be replayed, so only it needs the fingerprint of its body.
        requestHash: key
          ? createHash('sha256')
              .update(JSON.stringify(body, Object.keys(body).sort()))
              .digest()
          : NO_HASH,
      });
      if (accepted.replayed) void reply.header('idempotent-replayed', 'true');
      return reply
        .status(202)
        .header('location', reportLinks(accepted.id).self)
        .send({
          id: accepted.id,
          status: accepted.status,
          links: reportLinks(accepted.id),
        });
    },
  );

  app.get(
    '/v1/reports/:id',
    {
      config: { shed: 'read' },
      preHandler: requireRole('citizen', ...STAFF_ROLES),
      schema: {
        tags: ['reports'],
        summary: "A report: its citizen's or any staff member's view",
        security: [{ bearer: [] }],
        params: ReportIdParams,
        response: { 200: ReportResponse, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const who = principalOf(request);
      const id = request.params.id;
      const cached = await cache.getOrSet(REPORT_CACHE, id, async () => {
        const report = await findReportWithEvidence(db, id);
        if (!report) return null;
        return { citizenId: report.citizen_id, view: toView(report, reference, report.evidence, true) };
      });
      const { view } = visible(who, cached);
      if (who.role !== 'citizen') return view;
      const { review: _staffOnly, ...citizenView } = view;
      return citizenView;
    },
  );

  app.get(
    '/v1/reports/:id/events',
    {
      config: { shed: 'read' },
      preHandler: requireRole('citizen', ...STAFF_ROLES),
      schema: {
        tags: ['reports'],
        summary: "A report's timeline: every transition, oldest first, hash-chained",
        security: [{ bearer: [] }],
        params: ReportIdParams,
        response: { 200: EventsResponse, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const who = principalOf(request);
      const id = request.params.id;
      const cached = await cache.getOrSet(TIMELINE_CACHE, id, async () => {
        const report = await findReport(db, id);
        if (!report) return null;
        const events = await listEvents(db, id);
        return {
          citizenId: report.citizen_id,
          reportId: id,
          chainValid: firstBrokenLink(events) === null,
          events: events.map(toEventView),
        };
      });
      const { citizenId: _owner, ...timeline } = visible(who, cached);
      if (who.role !== 'citizen') return timeline;
      return { ...timeline, events: timeline.events.map(toCitizenEventView) };
    },
  );

  app.get(
    '/v1/me/reports',
    {
      config: { shed: 'read' },
      preHandler: requireRole('citizen'),
      schema: {
        tags: ['reports'],
        summary: "The signed-in citizen's reports, newest first",
        security: [{ bearer: [] }],
        querystring: ListQuery,
        response: { 200: ReportListResponse, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const { cursor, limit } = request.query;
      const citizenId = principalOf(request).id;
      const read = (n: number) => listCitizenReports(db, citizenId, { before: cursor, limit: n });
      const views = (rows: ReportWithEvidence[]) => rows.map((r) => toView(r, reference, r.evidence));
      // One more than the page, to know whether another follows.
      const page =
        cursor === undefined && limit <= FIRST_PAGE
          ? (
              await cache.getOrSet(CITIZEN_REPORTS_CACHE, citizenId, async () => {
                const rows = await read(FIRST_PAGE + 1);
                // The app opens a report from this list next: its status read should not go back to the database.
                await Promise.all(
                  rows.map((r) =>
                    cache.set(REPORT_CACHE, r.id, {
                      citizenId,
                      view: toView(r, reference, r.evidence, true),
                    }),
                  ),
                );
                return { items: views(rows) };
              })
            ).items.slice(0, limit + 1)
          : views(await read(limit + 1));
      const items = page.slice(0, limit);
      return { items, nextCursor: page.length > limit ? items.at(-1)!.id : null };
    },
  );
}

/** Staff see any report; a citizen sees only their own, and another's is "not found" so its existence stays hidden. */
function visible<T extends { citizenId: string }>(who: Principal, cached: T | null): T {
  if (!cached || (who.role === 'citizen' && cached.citizenId !== who.id))
    throw new AppError('REPORT_NOT_FOUND');
  return cached;
}
