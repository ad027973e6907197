import type { FastifyRequest } from 'fastify';
import { normalisePhone } from '../auth/phone.js';
import { caseOf } from '../driver/case-token.js';
import type { BlobStore } from '../evidence/blob-store.js';
import { ingestMultipartFile } from '../evidence/evidence.routes.js';
import type { Media } from '../evidence/media.js';
import type { SmsGateway } from '../integrations/sms/port.js';
import type { Config } from '../platform/config/config.js';
import type { Pool } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { type App, errorResponses } from '../platform/http/types.js';
import type { Keys } from '../platform/security/keys.js';
import { appealOfReport } from './appeals.repository.js';
import {
  AttachmentResponse,
  DriverAppeal,
  FileAppealBody,
  PhoneBody,
  PhoneCodeResponse,
} from './appeals.schema.js';
import { assertAppealable, fileAppeal } from './appeals.service.js';
import { confirmAppealPhone, sendAppealPhoneCode } from './phone-code.js';

export interface DriverAppealRoutesOptions {
  db: Pool;
  blobs: BlobStore;
  media: Media;
  sms: SmsGateway;
  keys: Keys;
  config: Config;
}

/** The driver's appeal of the case their token opens: confirm a phone, attach files, file, follow it. */
export async function driverAppealRoutes(app: App, opts: DriverAppealRoutesOptions): Promise<void> {
  const { db, blobs, media, sms, keys, config } = opts;
  const limited = { rateLimit: { max: config.APPEAL_RATE_LIMIT_PER_MINUTE, timeWindow: 60_000 } };
  // Without a valid token the answer is 401 before the body is validated: nothing is learnt of the request's shape.
  const tokenFirst = async (request: FastifyRequest) => {
    caseOf(keys.caseToken, request);
  };

  app.post(
    '/v1/fines/case/appeal/phone',
    {
      config: limited,
      preValidation: tokenFirst,
      schema: {
        tags: ['driver'],
        summary: "Send a code confirming the appeal's contact phone",
        body: PhoneBody,
        response: { 202: PhoneCodeResponse, ...errorResponses(400, 401, 404, 409, 429, 503) },
      },
    },
    async (request, reply) => {
      const { reportId } = caseOf(keys.caseToken, request);
      const phone = normalisePhone(request.body.phone);
      await assertAppealable(db, reportId, config);
      const out = await sendAppealPhoneCode(
        { pool: db, keys, sms, config },
        reportId,
        phone,
        request.body.lang,
      );
      return reply.status(202).send(out);
    },
  );

  app.post(
    '/v1/fines/case/attachments',
    {
      config: { ...limited, shed: 'write' },
      schema: {
        tags: ['driver'],
        summary: 'Upload one photo or video for the appeal (multipart field "file"), checked as evidence is',
        consumes: ['multipart/form-data'],
        response: {
          200: AttachmentResponse,
          201: AttachmentResponse,
          ...errorResponses(400, 401, 404, 409, 413, 415, 422, 429),
        },
      },
    },
    async (request, reply) => {
      const { reportId } = caseOf(keys.caseToken, request);
      await assertAppealable(db, reportId, config);
      const out = await ingestMultipartFile(
        request,
        { db, blobs, media, config },
        { caseReportId: reportId, dailyBytes: config.APPEAL_UPLOAD_BYTES_PER_CASE },
      );
      const { id, kind, mime, bytes } = out.body;
      return reply.status(out.created ? 201 : 200).send({ id, kind, mime, bytes });
    },
  );

  app.post(
    '/v1/fines/case/appeal',
    {
      config: limited,
      preValidation: tokenFirst,
      schema: {
        tags: ['driver'],
        summary: `File the appeal, within APPEAL_WINDOW_DAYS (${config.APPEAL_WINDOW_DAYS}) of the ruling`,
        body: FileAppealBody,
        response: { 201: DriverAppeal, ...errorResponses(400, 401, 404, 409, 422, 429) },
      },
    },
    async (request, reply) => {
      const { reportId } = caseOf(keys.caseToken, request);
      const phone = normalisePhone(request.body.phone);
      // Refused before the code is spent when the case cannot be appealed anyway.
      await assertAppealable(db, reportId, config);
      await confirmAppealPhone({ pool: db, keys, config }, reportId, phone, request.body.code);
      await fileAppeal({ pool: db, keys, config }, reportId, { ...request.body, phone });
      return reply.status(201).send(toDriverAppeal((await appealOfReport(db, reportId))!));
    },
  );

  app.get(
    '/v1/fines/case/appeal',
    {
      schema: {
        tags: ['driver'],
        summary: "The case's appeal: its status and, once decided, the decision",
        response: { 200: DriverAppeal, ...errorResponses(401, 404) },
      },
    },
    async (request, reply) => {
      const { reportId } = caseOf(keys.caseToken, request);
      const a = await appealOfReport(db, reportId);
      if (!a) throw new AppError('APPEAL_NOT_FOUND');
      reply.header('cache-control', 'private, no-store');
      return toDriverAppeal(a);
    },
  );
}

/**
 * The driver sees the decision only once the registry has it: until then a decided appeal still reads as being
 * reviewed, so what the driver reads and what the registry holds never disagree.
 */
function toDriverAppeal(a: NonNullable<Awaited<ReturnType<typeof appealOfReport>>>): DriverAppeal {
  const decided = a.status === 'decided' && a.registry_sent_at !== null;
  return {
    id: a.id,
    status: decided ? 'decided' : a.status === 'filed' ? 'filed' : 'in_review',
    filedAt: a.filed_at.toISOString(),
    decision: decided ? a.decision : null,
    correctedViolationCode: decided ? a.corrected_violation_code : null,
    reasonCode: decided ? a.reason_code : null,
    decidedAt: decided ? (a.registry_sent_at?.toISOString() ?? null) : null,
    attachments: a.attachments,
  };
}
