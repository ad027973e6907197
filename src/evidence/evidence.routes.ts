import type { FastifyRequest } from 'fastify';
import { perCitizenRateLimit, principalOf, requireRole } from '../auth/guard.js';
import type { Config } from '../platform/config/config.js';
import type { Pool } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { type App, errorResponses } from '../platform/http/types.js';
import type { BlobStore } from './blob-store.js';
import { type EvidenceBody, EvidenceResponse } from './evidence.schema.js';
import { clientStreamError, type IngestDeps, ingestEvidence, type Uploader } from './evidence.service.js';
import type { Media } from './media.js';

export interface EvidenceRoutesOptions {
  db: Pool;
  blobs: BlobStore;
  media: Media;
  config: Pick<
    Config,
    'RATE_LIMIT_SUBMIT_PER_MINUTE' | 'EVIDENCE_MAX_BYTES' | 'EVIDENCE_DAILY_BYTES_PER_CITIZEN'
  >;
}

/** A photo or video uploaded in one request (multipart); large videos go through the resumable uploads. */
export async function evidenceRoutes(app: App, opts: EvidenceRoutesOptions): Promise<void> {
  const { db, blobs, media, config } = opts;

  app.post(
    '/v1/evidence',
    {
      preHandler: requireRole('citizen'),
      config: { ...perCitizenRateLimit('evidence', config.RATE_LIMIT_SUBMIT_PER_MINUTE), shed: 'write' },
      schema: {
        tags: ['evidence'],
        summary:
          'Upload one photo or video (multipart field "file"); the same bytes always return the same id',
        consumes: ['multipart/form-data'],
        security: [{ bearer: [] }],
        response: {
          200: EvidenceResponse,
          201: EvidenceResponse,
          ...errorResponses(400, 401, 403, 413, 415, 422, 429),
        },
      },
    },
    async (request, reply) => {
      const citizen = principalOf(request);
      const out = await ingestMultipartFile(request, { db, blobs, media, config }, { citizenId: citizen.id });
      return reply.status(out.created ? 201 : 200).send(out.body);
    },
  );
}

/**
 * The one file of a multipart upload request (field `file`, at most EVIDENCE_MAX_BYTES) through ingestEvidence, for
 * `uploader`: a citizen's evidence or a driver's appeal attachment. A refused or failed part is drained, so the
 * connection stays usable.
 */
export async function ingestMultipartFile(
  request: FastifyRequest,
  deps: IngestDeps,
  uploader: Uploader,
): Promise<{ created: boolean; body: EvidenceBody }> {
  if (!request.isMultipart())
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', { message: 'Send the file as multipart/form-data.' });
  const part = await request
    .file({ throwFileSizeLimit: false, limits: { fileSize: deps.config.EVIDENCE_MAX_BYTES, files: 1 } })
    .catch((err: unknown) => {
      throw clientStreamError(err);
    });
  if (part?.fieldname !== 'file') {
    part?.file.resume();
    throw new AppError('EVIDENCE_FILE_MISSING', { field: 'file' });
  }
  return ingestEvidence(deps, {
    stream: part.file,
    truncated: () => part.file.truncated,
    filename: part.filename,
    log: request.log,
    ...uploader,
  }).catch((err: unknown) => {
    part.file.resume();
    throw err;
  });
}
