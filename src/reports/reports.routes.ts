import { createHash } from 'node:crypto';
import { Type as T } from '@sinclair/typebox';
import type { Deps } from '../app/deps.js';
import { perCitizenRateLimit, principalOf, requireRole, STAFF_ROLES } from '../auth/guard.js';
import type { Principal } from '../auth/tokens.js';
import { AppError } from '../platform/errors/catalog.js';
import { type App, errorResponses } from '../platform/http/types.js';
import { normalisePlate } from '../reference/plates.js';
import type { ReferenceData } from '../reference/reference.js';
import { firstBrokenLink, listEvents } from './events.js';
import { REJECTION_REASONS, type RejectionReason } from './reasons.js';
import { CITIZEN_REPORTS_CACHE, FIRST_PAGE, REPORT_CACHE, TIMELINE_CACHE } from './report-cache.js';
import {
  findReport,
  findReportWithEvidence,
  listCitizenReports,
  type ReportRow,
  type ReportWithEvidence,
} from './reports.repository.js';
import {
  AcceptedResponse,
  EventsResponse,
  ListQuery,
  ReportListResponse,
  ReportView,
  SubmitHeaders,
  SubmitReportBody,
} from './reports.schema.js';

const NO_HASH = Buffer.alloc(32);
const IdParams = T.Object({ id: T.String({ format: 'uuid' }) });
const links = (id: string) => ({ self: `/v1/reports/${id}`, events: `/v1/reports/${id}/events` });

export function reportRoutes(app: App, deps: Deps): void {
  app.addSchema(ReportView);

  app.post(
    '/v1/reports',
    {
      preHandler: requireRole('citizen'),
      config: { ...perCitizenRateLimit('report', deps.config.RATE_LIMIT_SUBMIT_PER_MINUTE), shed: 'write' },
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
      if (!deps.reference.violationType(body.violationCode)) {
        throw new AppError('VIOLATION_TYPE_UNKNOWN', { field: 'violationCode' });
      }
      const accepted = await deps.intake.submit({
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
        .header('location', links(accepted.id).self)
        .send({
          id: accepted.id,
          status: accepted.status,
          links: links(accepted.id),
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
        params: IdParams,
        response: { 200: T.Ref(ReportView), ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const who = principalOf(request);
      const id = request.params.id;
      const cached = await deps.cache.getOrSet(REPORT_CACHE, id, async () => {
        const report = await findReportWithEvidence(deps.pool, id);
        if (!report) return null;
        return { citizenId: report.citizen_id, view: toView(report, deps.reference, report.evidence, true) };
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
        params: IdParams,
        response: { 200: EventsResponse, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const who = principalOf(request);
      const id = request.params.id;
      const cached = await deps.cache.getOrSet(TIMELINE_CACHE, id, async () => {
        const report = await findReport(deps.pool, id);
        if (!report) return null;
        const events = await listEvents(deps.pool, id);
        return {
          citizenId: report.citizen_id,
          reportId: id,
          chainValid: firstBrokenLink(events) === null,
          events: events.map((e) => ({
            seq: e.seq,
            type: e.type,
            fromStatus: e.fromStatus,
            toStatus: e.toStatus,
            actor: e.actor,
            at: e.at.toISOString(),
            data: e.data,
            hash: e.hash.toString('hex'),
          })),
        };
      });
      const { citizenId: _owner, ...timeline } = visible(who, cached);
      if (who.role !== 'citizen') return timeline;
      // A citizen learns that an inspector acted, not which one.
      const events = timeline.events.map((e) =>
        e.actor.startsWith('staff:') ? { ...e, actor: 'inspector' } : e,
      );
      return { ...timeline, events };
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
      const read = (n: number) => listCitizenReports(deps.pool, citizenId, { before: cursor, limit: n });
      const views = (rows: ReportWithEvidence[]) => rows.map((r) => toView(r, deps.reference, r.evidence));
      // One more than the page, to know whether another follows.
      const page =
        cursor === undefined && limit <= FIRST_PAGE
          ? (
              await deps.cache.getOrSet(CITIZEN_REPORTS_CACHE, citizenId, async () => {
                const rows = await read(FIRST_PAGE + 1);
                // The app opens a report from this list next: its status read should not go back to the database.
                await Promise.all(
                  rows.map((r) =>
                    deps.cache.set(REPORT_CACHE, r.id, {
                      citizenId,
                      view: toView(r, deps.reference, r.evidence, true),
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

export function toView(
  r: ReportRow,
  reference: ReferenceData,
  evidence: { id: string; kind: string; mime: string; bytes: number }[],
  forStaff = false,
): ReportView {
  const type = reference.violationType(r.violation_code);
  const reason = r.reason_code ? REJECTION_REASONS[r.reason_code as RejectionReason] : undefined;
  return {
    id: r.id,
    status: r.status,
    violation: { code: r.violation_code, name: type?.name ?? { en: r.violation_code, uz: null, ru: null } },
    plate: r.plate,
    location: { lat: r.lat, lon: r.lon },
    incidentAt: r.incident_at.toISOString(),
    receivedAt: r.received_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    description: r.description,
    rejection: r.reason_code
      ? { code: r.reason_code, reason: reason ?? { uz: r.reason_code, ru: r.reason_code, en: r.reason_code } }
      : null,
    fine: reference.fineFor(r.violation_code, r.incident_at),
    evidence,
    version: r.version,
    links: links(r.id),
    // What the automated stages found, for the people who review it; never the reporter's identity.
    ...(forStaff
      ? {
          review: {
            priority: r.priority,
            findings: r.findings as Record<string, unknown>[],
            duplicateOf: r.duplicate_of,
            slaDueAt: r.sla_due_at?.toISOString() ?? null,
            plateRegionCode: r.plate_region_code,
            regionId: r.region_id,
            districtId: r.district_id,
          },
        }
      : {}),
  };
}
