import { createHash } from 'node:crypto';
import { Type as T } from '@sinclair/typebox';
import type { Deps } from '../app/deps.js';
import { perCitizenRateLimit, principalOf, requireRole, STAFF_ROLES } from '../auth/guard.js';
import type { Principal } from '../auth/tokens.js';
import type { Queryable } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { type App, errorResponses } from '../platform/http/types.js';
import { normalisePlate } from '../reference/plates.js';
import type { ReferenceData } from '../reference/reference.js';
import { firstBrokenLink, listEvents } from './events.js';
import { REJECTION_REASONS, type RejectionReason } from './reasons.js';
import { evidenceOfReports, findReport, listCitizenReports, type ReportRow } from './reports.repository.js';
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
      const report = await visibleReport(deps.pool, who, request.params.id);
      const evidence = await evidenceOfReports(deps.pool, [report.id]);
      return toView(report, deps.reference, evidence.get(report.id) ?? [], who.role !== 'citizen');
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
      const report = await visibleReport(deps.pool, who, request.params.id);
      const events = await listEvents(deps.pool, report.id);
      // A citizen learns that an inspector acted, not which one.
      const actorFor = (actor: string) =>
        who.role === 'citizen' && actor.startsWith('staff:') ? 'inspector' : actor;
      return {
        reportId: report.id,
        chainValid: firstBrokenLink(events) === null,
        events: events.map((e) => ({
          seq: e.seq,
          type: e.type,
          fromStatus: e.fromStatus,
          toStatus: e.toStatus,
          actor: actorFor(e.actor),
          at: e.at.toISOString(),
          data: e.data,
          hash: e.hash.toString('hex'),
        })),
      };
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
      const rows = await listCitizenReports(deps.pool, principalOf(request).id, {
        before: cursor,
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const evidence = await evidenceOfReports(
        deps.pool,
        page.map((r) => r.id),
      );
      const items = page.map((r) => toView(r, deps.reference, evidence.get(r.id) ?? []));
      return { items, nextCursor: rows.length > limit ? page.at(-1)!.id : null };
    },
  );
}

/** Staff see any report; a citizen sees only their own, and another's is "not found" so its existence stays hidden. */
async function visibleReport(db: Queryable, who: Principal, id: string): Promise<ReportRow> {
  const report = await findReport(db, id);
  if (!report || (who.role === 'citizen' && report.citizen_id !== who.id))
    throw new AppError('REPORT_NOT_FOUND');
  return report;
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
