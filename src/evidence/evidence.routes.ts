import { perCitizenRateLimit, principalOf, requireRole } from '../auth/guard.js';
import type { Config } from '../platform/config/config.js';
import type { Pool } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { type App, errorResponses } from '../platform/http/types.js';
import type { BlobStore } from './blob-store.js';
import { EvidenceResponse } from './evidence.schema.js';
import { clientStreamError, ingestEvidence } from './evidence.service.js';
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
      if (!request.isMultipart())
        throw new AppError('UNSUPPORTED_MEDIA_TYPE', {
          message: 'Send the evidence as multipart/form-data.',
        });
      const part = await request
        .file({ throwFileSizeLimit: false, limits: { fileSize: config.EVIDENCE_MAX_BYTES, files: 1 } })
        .catch((err: unknown) => {
          throw clientStreamError(err);
        });
      if (part?.fieldname !== 'file') {
        part?.file.resume();
        throw new AppError('EVIDENCE_FILE_MISSING', { field: 'file' });
      }

      const out = await ingestEvidence(
        { db, blobs, media, config },
        {
          stream: part.file,
          truncated: () => part.file.truncated,
          citizenId: citizen.id,
          filename: part.filename,
          log: request.log,
        },
      ).catch((err: unknown) => {
        part.file.resume();
        throw err;
      });
      return reply.status(out.created ? 201 : 200).send(out.body);
    },
  );
}
