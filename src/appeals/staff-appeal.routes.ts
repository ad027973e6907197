import { auditContext } from '../audit/audit.js';
import { principalOf } from '../auth/guard.js';
import { maskPhone } from '../auth/phone.js';
import type { BlobStore } from '../evidence/blob-store.js';
import type { Config } from '../platform/config/config.js';
import type { Pool } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { type App, errorResponses } from '../platform/http/types.js';
import { decrypt, type Keys } from '../platform/security/keys.js';
import type { ReferenceData } from '../reference/reference.js';
import { queueScope } from '../review/review.scope.js';
import { loadReviewCase } from '../review/review.service.js';
import { toReviewDetail } from '../review/review.view.js';
import { assertAppealInUnit } from './appeal-scope.js';
import { type AppealRow, appealQueue, attachmentsOf, findAppeal } from './appeals.repository.js';
import {
  APPEAL_REASONS,
  AppealDetail,
  AppealIdParams,
  AttachmentParams,
  DecisionBody,
  DecisionResponse,
  NextResponse,
  type QueueItem,
  QueueQuery,
  QueueResponse,
} from './appeals.schema.js';
import { claimNextAppeal, decideOnAppeal, releaseAppeal } from './appeals.service.js';

export interface StaffAppealRoutesOptions {
  db: Pool;
  blobs: Pick<BlobStore, 'read'>;
  reference: ReferenceData;
  keys: Pick<Keys, 'phoneEnc'>;
  config: Pick<Config, 'APPEAL_LEASE_MINUTES'>;
}

const tags = ['appeals'];

/** The supervisors' appeals queue: list, take under a lease, read, decide, give back. Access: SUPERVISORS. */
export async function staffAppealRoutes(app: App, opts: StaffAppealRoutesOptions): Promise<void> {
  const { db, blobs, reference, keys, config } = opts;

  app.get(
    '/v1/appeals',
    {
      schema: {
        tags,
        summary: 'Open appeals in your unit, most urgent deadline first',
        querystring: QueueQuery,
        response: { 200: QueueResponse, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const who = principalOf(request);
      const scope = await queueScope(db, who, request.query.unit);
      const rows = await appealQueue(db, scope, request.query.limit ?? 50);
      return { items: rows.map((a) => queueItem(a, who.id)) };
    },
  );

  app.post(
    '/v1/appeals/next',
    {
      schema: {
        tags,
        summary: 'Take the most urgent free appeal in your unit (or get back the one you hold)',
        querystring: QueueQuery,
        response: { 200: NextResponse, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const who = principalOf(request);
      const id = await claimNextAppeal(db, who, request.query.unit, config, auditContext(request));
      return { id };
    },
  );

  app.get(
    '/v1/appeals/:id',
    {
      schema: {
        tags,
        summary: 'An appeal with its case as inspectors see it',
        params: AppealIdParams,
        response: { 200: AppealDetail, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const who = principalOf(request);
      await assertAppealInUnit(db, who, request.params.id);
      const a = await findAppeal(db, request.params.id);
      if (!a) throw new AppError('APPEAL_NOT_FOUND');
      const [files, c] = await Promise.all([attachmentsOf(db, a.id), loadReviewCase(db, a.report_id)]);
      reply.header('cache-control', 'private, no-store');
      return {
        appeal: {
          ...queueItem(a, who.id),
          text: a.text,
          contactPhone: maskPhone(decrypt(keys.phoneEnc, a.contact_phone_enc)),
          attachments: files.map((f) => ({
            id: f.id,
            kind: f.kind,
            mime: f.mime,
            bytes: Number(f.bytes),
            url: `/v1/appeals/${a.id}/attachments/${f.id}`,
          })),
          decision: a.decision,
          correctedViolationCode: a.corrected_violation_code,
          reasonCode: a.reason_code,
          note: a.note,
          decidedBy: a.decided_by,
          decidedAt: a.decided_at?.toISOString() ?? null,
          registrySentAt: a.registry_sent_at?.toISOString() ?? null,
        },
        case: toReviewDetail(c, reference, who.id),
        reasons: [...APPEAL_REASONS],
      };
    },
  );

  app.get(
    '/v1/appeals/:id/attachments/:evidenceId',
    {
      schema: {
        tags,
        summary: 'A file the driver attached to the appeal',
        params: AttachmentParams,
        response: { ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await assertAppealInUnit(db, principalOf(request), request.params.id);
      const file = (await attachmentsOf(db, request.params.id)).find(
        (f) => f.id === request.params.evidenceId,
      );
      if (!file) throw new AppError('EVIDENCE_FILE_NOT_FOUND');
      return reply
        .header('cache-control', 'private, no-store')
        .header('x-content-type-options', 'nosniff')
        .type(file.mime)
        .send(blobs.read(file.sha256.toString('hex')));
    },
  );

  app.post(
    '/v1/appeals/:id/decision',
    {
      schema: {
        tags,
        summary: 'Decide an appeal you hold: uphold, cancel the fine, or correct the ruling',
        params: AppealIdParams,
        body: DecisionBody,
        response: { 200: DecisionResponse, ...errorResponses(400, 401, 403, 404, 409, 422) },
      },
    },
    async (request) => {
      const who = principalOf(request);
      await decideOnAppeal(db, reference, request.params.id, who, request.body, auditContext(request));
      return { id: request.params.id, status: 'decided' as const };
    },
  );

  app.post(
    '/v1/appeals/:id/release',
    {
      schema: {
        tags,
        summary: 'Give an appeal you hold back to the queue',
        params: AppealIdParams,
        response: { 204: { type: 'null' }, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await releaseAppeal(db, request.params.id, principalOf(request), auditContext(request));
      return reply.status(204).send();
    },
  );
}

function queueItem(a: AppealRow, me: string): QueueItem {
  const live = a.status === 'in_review' && a.lease_expires_at && a.lease_expires_at.getTime() >= Date.now();
  return {
    id: a.id,
    reportId: a.report_id,
    status: a.status,
    unitId: a.unit_id,
    filedAt: a.filed_at.toISOString(),
    slaDueAt: a.sla_due_at.toISOString(),
    overdue: a.status !== 'decided' && a.sla_due_at.getTime() < Date.now(),
    lease:
      live && a.lease_owner
        ? {
            supervisorId: a.lease_owner,
            mine: a.lease_owner === me,
            expiresAt: a.lease_expires_at!.toISOString(),
          }
        : null,
  };
}
