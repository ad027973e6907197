import type { BlobStore } from '../evidence/blob-store.js';
import type { Media } from '../evidence/media.js';
import type { Config } from '../platform/config/config.js';
import type { Pool } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { parseRange } from '../platform/http/range.js';
import { type App, errorResponses } from '../platform/http/types.js';
import type { Keys } from '../platform/security/keys.js';
import { normalisePlate } from '../reference/plates.js';
import type { ReferenceData } from '../reference/reference.js';
import { caseOf, issueCaseToken } from './case-token.js';
import { caseEvidence, caseEvidenceFile, findCaseByRuling, loadCase } from './driver.repository.js';
import { CaseEvidenceParams, CaseQuery, DriverCase, LookupBody, LookupResponse } from './driver.schema.js';
import { toDriverCase } from './driver.view.js';
import { driverCopyOf } from './driver-copy.js';

export interface DriverRoutesOptions {
  db: Pool;
  blobs: Pick<BlobStore, 'read' | 'withLocalFile' | 'putBuffer' | 'createUpload'>;
  media: Media;
  reference: ReferenceData;
  keys: Pick<Keys, 'caseToken'>;
  config: Pick<
    Config,
    | 'RATE_LIMIT_FINE_LOOKUP_PER_MINUTE'
    | 'RATE_LIMIT_FINE_LOOKUP_PER_PLATE_PER_HOUR'
    | 'FINE_PAYMENT_DAYS'
    | 'APPEAL_WINDOW_DAYS'
  >;
}

/**
 * The driver's side of a fined case (no account): look it up by plate and ruling number, read it, and watch its
 * evidence — the copies made for drivers, never the files the reporter sent.
 */
export async function driverRoutes(app: App, opts: DriverRoutesOptions): Promise<void> {
  const { db, blobs, media, reference, keys, config } = opts;
  // Counted in the same store as every other limit (Redis when configured), so all API processes share it.
  const perPlate = app.createRateLimit({
    max: config.RATE_LIMIT_FINE_LOOKUP_PER_PLATE_PER_HOUR,
    timeWindow: 3_600_000,
    keyGenerator: (req) => `fine-plate:${normalisePlate((req.body as { plate: string }).plate)}`,
  });

  app.post(
    '/v1/fines/lookup',
    {
      config: { rateLimit: { max: config.RATE_LIMIT_FINE_LOOKUP_PER_MINUTE, timeWindow: 60_000 } },
      schema: {
        tags: ['driver'],
        summary: "A driver's case by plate and ruling number: the case and a token that opens it",
        body: LookupBody,
        response: { 200: LookupResponse, ...errorResponses(400, 404, 429) },
      },
    },
    async (request) => {
      const limit = await perPlate(request);
      if (!limit.isAllowed && limit.isExceeded) throw new AppError('RATE_LIMITED');
      const plate = normalisePlate(request.body.plate);
      const ruling = request.body.rulingNumber.replace(/[\s-]+/g, '').toUpperCase();
      const reportId = await findCaseByRuling(db, ruling, plate);
      const row = reportId ? await loadCase(db, reportId) : null;
      if (!row) throw new AppError('FINE_NOT_FOUND');
      return {
        caseToken: issueCaseToken(keys.caseToken, { reportId: row.id }),
        case: toDriverCase(row, await caseEvidence(db, row.id), reference, config),
      };
    },
  );

  app.get(
    '/v1/fines/case',
    {
      schema: {
        tags: ['driver'],
        summary: 'The case the token opens (X-Case-Token or ?case=)',
        querystring: CaseQuery,
        response: { 200: DriverCase, ...errorResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const { reportId } = caseOf(keys.caseToken, request);
      const row = await loadCase(db, reportId);
      if (!row) throw new AppError('FINE_NOT_FOUND');
      reply.header('cache-control', 'private, no-store');
      return toDriverCase(row, await caseEvidence(db, row.id), reference, config);
    },
  );

  app.get(
    '/v1/fines/case/evidence/:evidenceId',
    {
      schema: {
        tags: ['driver'],
        summary:
          'An evidence file of the case as drivers see it: metadata removed, marked regions blurred; Range supported',
        params: CaseEvidenceParams,
        querystring: CaseQuery,
        response: { ...errorResponses(400, 401, 404, 416, 503) },
      },
    },
    async (request, reply) => {
      const { reportId } = caseOf(keys.caseToken, request);
      const file = await caseEvidenceFile(db, reportId, request.params.evidenceId);
      if (!file) throw new AppError('EVIDENCE_FILE_NOT_FOUND');
      const copy = await driverCopyOf({ db, blobs, media }, file, file.regions);
      const etag = `"${copy.sha256}"`;
      reply
        .header('cache-control', 'private, no-store')
        .header('x-content-type-options', 'nosniff')
        .header('accept-ranges', 'bytes')
        .header('etag', etag)
        .type(copy.mime);
      if (request.headers['if-none-match'] === etag) return reply.status(304).send();
      const range = parseRange(request.headers.range, copy.bytes);
      if (range === 'unsatisfiable') {
        reply.header('content-range', `bytes */${copy.bytes}`);
        throw new AppError('RANGE_NOT_SATISFIABLE');
      }
      if (!range) return reply.header('content-length', copy.bytes).send(blobs.read(copy.sha256));
      return reply
        .status(206)
        .header('content-range', `bytes ${range.start}-${range.end}/${copy.bytes}`)
        .header('content-length', range.end - range.start + 1)
        .send(blobs.read(copy.sha256, range));
    },
  );
}
