import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { perCitizenRateLimit, principalOf, requireRole } from '../auth/guard.js';
import type { Config } from '../platform/config/config.js';
import type { Pool } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { type App, errorResponses } from '../platform/http/types.js';
import { newId } from '../platform/ids.js';
import type { BlobStore } from './blob-store.js';
import {
  closeUploadSession,
  dailyQuota,
  deleteExpiredUploadSessions,
  findUploadSession,
  openUploadCount,
  openUploadSession,
} from './evidence.repository.js';
import {
  ChunkHeaders,
  ChunkStored,
  EvidenceResponse,
  OpenUploadBody,
  UploadParams,
  UploadState,
} from './evidence.schema.js';
import { ingestEvidence, quotaError } from './evidence.service.js';
import type { Media } from './media.js';
import { SNIFF_BYTES, sniff } from './sniff.js';

// A chunk per request: large enough that a good connection sends a video in a few, small enough that a dropped one
// loses little.
const MAX_CHUNK_BYTES = 8 * 1024 * 1024;
const SESSION_HOURS = 24;
const CHUNK_TYPE = 'application/offset+octet-stream';

export interface ResumableUploadRoutesOptions {
  db: Pool;
  blobs: BlobStore;
  media: Media;
  config: Pick<
    Config,
    | 'JARIMA_DATA_DIR'
    | 'RATE_LIMIT_SUBMIT_PER_MINUTE'
    | 'EVIDENCE_MAX_BYTES'
    | 'EVIDENCE_DAILY_BYTES_PER_CITIZEN'
    | 'UPLOADS_OPEN_PER_CITIZEN'
  >;
}

/**
 * Resumable uploads, after tus's core protocol: `POST /v1/uploads {size, filename}` opens one; `PATCH
 * /v1/uploads/{id}` with `Upload-Offset` and a chunk (`application/offset+octet-stream`) appends at that offset;
 * `GET /v1/uploads/{id}` says where it stands, so a client whose connection dropped continues from there instead of
 * sending the whole file again. The chunk that completes the file answers with the evidence, checked by its content
 * exactly as `POST /v1/evidence` checks it. Unfinished uploads expire after a day.
 */
export async function resumableUploadRoutes(app: App, opts: ResumableUploadRoutesOptions): Promise<void> {
  const { db, blobs, media, config } = opts;
  const dir = path.join(config.JARIMA_DATA_DIR, 'uploads');
  await mkdir(dir, { recursive: true });
  const partOf = (id: string) => path.join(dir, `${id}.part`);
  // One chunk at a time per upload in this process: a client retrying a chunk it thinks was lost must not append
  // beside the original. (Across API processes the offset check below catches the rarer overlap.)
  const busy = new Set<string>();

  const session = async (id: string, citizenId: string) => {
    const open = await findUploadSession(db, id, citizenId);
    if (!open) throw new AppError('UPLOAD_NOT_FOUND');
    const offset = await stat(partOf(id)).then(
      (s) => s.size,
      () => 0,
    );
    return { ...open, offset };
  };
  const close = async (id: string) => {
    await closeUploadSession(db, id);
    await rm(partOf(id), { force: true });
  };

  app.post(
    '/v1/uploads',
    {
      preHandler: requireRole('citizen'),
      config: { ...perCitizenRateLimit('evidence', config.RATE_LIMIT_SUBMIT_PER_MINUTE), shed: 'write' },
      schema: {
        tags: ['evidence'],
        summary: 'Open a resumable upload of one photo or video of `size` bytes',
        security: [{ bearer: [] }],
        body: OpenUploadBody(config.EVIDENCE_MAX_BYTES),
        response: { 201: UploadState, ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (request, reply) => {
      const citizen = principalOf(request);
      const id = newId();
      // Abandoned uploads go when new ones come (and with the hourly evidence clean-up): the rows and their files.
      const expired = await deleteExpiredUploadSessions(db);
      await Promise.all(expired.map((e) => rm(partOf(e), { force: true })));
      // An open upload holds its declared size against the daily quota, so many half-sent uploads cannot pass it.
      const [open, quota] = await Promise.all([
        openUploadCount(db, citizen.id),
        dailyQuota(db, citizen.id, config.EVIDENCE_DAILY_BYTES_PER_CITIZEN),
      ]);
      if (open >= config.UPLOADS_OPEN_PER_CITIZEN)
        throw new AppError('UPLOADS_OPEN_LIMIT', {
          details: { open, max: config.UPLOADS_OPEN_PER_CITIZEN, retryAfterSeconds: 60 },
        });
      if (request.body.size > quota.left) throw quotaError(quota.retryAfterSeconds);
      await openUploadSession(db, {
        id,
        citizenId: citizen.id,
        size: request.body.size,
        filename: request.body.filename ?? null,
        hours: SESSION_HOURS,
      });
      return reply
        .status(201)
        .header('location', `/v1/uploads/${id}`)
        .send({ id, offset: 0, size: request.body.size });
    },
  );

  app.get(
    '/v1/uploads/:id',
    {
      preHandler: requireRole('citizen'),
      schema: {
        tags: ['evidence'],
        summary: 'Where a resumable upload stands: continue from `offset`',
        security: [{ bearer: [] }],
        params: UploadParams,
        response: { 200: UploadState, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const s = await session(request.params.id, principalOf(request).id);
      return { id: request.params.id, offset: s.offset, size: s.size };
    },
  );

  await app.register(async (scope) => {
    // The chunk is read as a stream by the handler, not parsed.
    scope.addContentTypeParser(CHUNK_TYPE, (_request, payload, done) => done(null, payload));
    (scope as App).patch(
      '/v1/uploads/:id',
      {
        preHandler: requireRole('citizen'),
        config: { shed: 'write' },
        schema: {
          tags: ['evidence'],
          summary:
            'Append a chunk at `Upload-Offset`; the chunk that completes the file answers with the evidence (201/200)',
          security: [{ bearer: [] }],
          params: UploadParams,
          headers: ChunkHeaders,
          response: {
            200: EvidenceResponse,
            201: EvidenceResponse,
            204: ChunkStored,
            ...errorResponses(400, 401, 403, 404, 409, 413, 415, 422),
          },
        },
      },
      async (request, reply) => {
        const citizen = principalOf(request);
        const id = request.params.id;
        const body = request.body as Readable | undefined;
        if (!body)
          throw new AppError('VALIDATION_FAILED', {
            field: 'body',
            message: `Send a chunk as ${CHUNK_TYPE}.`,
          });
        if (!request.headers['content-type']?.startsWith(CHUNK_TYPE)) {
          body.resume?.();
          throw new AppError('UNSUPPORTED_MEDIA_TYPE', { message: `Send chunks as ${CHUNK_TYPE}.` });
        }
        if (busy.has(id)) {
          body.resume();
          throw new AppError('UPLOAD_OFFSET_MISMATCH', { field: 'Upload-Offset' });
        }
        busy.add(id);
        try {
          const s = await session(id, citizen.id);
          const offset = request.headers['upload-offset'];
          if (offset !== s.offset) {
            body.resume();
            throw new AppError('UPLOAD_OFFSET_MISMATCH', {
              field: 'Upload-Offset',
              details: { offset: s.offset },
            });
          }
          let received = 0;
          const limit = Math.min(MAX_CHUNK_BYTES, s.size - s.offset);
          await pipeline(
            body,
            async function* (chunks: AsyncIterable<Buffer>) {
              for await (const chunk of chunks) {
                received += chunk.length;
                if (received > limit)
                  throw new AppError(
                    received > s.size - s.offset ? 'UPLOAD_TOO_LONG' : 'EVIDENCE_TOO_LARGE',
                    {
                      field: 'body',
                      details: { maxChunkBytes: MAX_CHUNK_BYTES },
                    },
                  );
                yield chunk;
              }
            },
            // A dropped connection leaves what arrived: the client resumes from the offset that is on disk.
            createWriteStream(partOf(id), { flags: 'a' }),
          ).catch(async (err: unknown) => {
            if (err instanceof AppError) {
              // Keep only the bytes before this chunk, so the offset stays one the client can resume from.
              const { truncate } = await import('node:fs/promises');
              await truncate(partOf(id), s.offset).catch((e: unknown) =>
                request.log.warn({ err: e, upload: id }, 'could not cut an upload back to its last offset'),
              );
              throw err;
            }
          });
          const now = await stat(partOf(id)).then((f) => f.size);
          // Not media at all: say so once the first SNIFF_BYTES are in (whatever the chunks' sizes), not after the
          // whole file.
          if (s.offset < SNIFF_BYTES && now >= SNIFF_BYTES) {
            const head = await readHead(partOf(id));
            if (!sniff(head)) {
              await close(id);
              throw new AppError('EVIDENCE_TYPE_UNSUPPORTED', { field: 'file' });
            }
          }
          void reply.header('upload-offset', String(now));
          if (now < s.size) return reply.status(204).send(null);
          const out = await ingestEvidence(
            { db, blobs, media, config },
            {
              stream: createReadStream(partOf(id)),
              truncated: () => false,
              citizenId: citizen.id,
              filename: s.filename,
              quotaReserved: true,
              log: request.log,
            },
          ).finally(() => close(id));
          return reply.status(out.created ? 201 : 200).send(out.body);
        } finally {
          busy.delete(id);
        }
      },
    );
  });
}

async function readHead(file: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of createReadStream(file, { start: 0, end: SNIFF_BYTES - 1 })) {
    chunks.push(chunk as Buffer);
    n += (chunk as Buffer).length;
    if (n >= SNIFF_BYTES) break;
  }
  return Buffer.concat(chunks).subarray(0, SNIFF_BYTES);
}
