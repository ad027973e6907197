import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { FileStore } from '@tus/file-store';
import { type Locker, MemoryLocker, Server } from '@tus/server';
import type { DataStore, Upload } from '@tus/utils';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { perCitizenRateLimit, principalOf, requireRole } from '../auth/guard.js';
import type { Config } from '../platform/config/config.js';
import type { Pool } from '../platform/db/pool.js';
import { AppError, ERRORS, type ErrorCode } from '../platform/errors/catalog.js';
import { isUuid } from '../platform/formats.js';
import type { App } from '../platform/http/types.js';
import { newId } from '../platform/ids.js';
import type { BlobStore } from './blob-store.js';
import {
  closeUploadSession,
  dailyQuota,
  findUploadSession,
  openUploadCount,
  openUploadSession,
} from './evidence.repository.js';
import { UploadParams } from './evidence.schema.js';
import { ingestEvidence, quotaError } from './evidence.service.js';
import type { Media } from './media.js';
import { RedisLocker } from './tus-locker.js';

export const TUS_PATH = '/v1/tus';

/** A tus store the finished file can be read back from (FileStore and S3Store both can). */
export type ReadableDataStore = DataStore & { read(id: string): Readable | Promise<Readable> };
/** The header our authentication hands the tus server the citizen in (any such header from the client is dropped). */
const CITIZEN_HEADER = 'x-jarima-citizen';
const EXPIRY_HOURS = 24;

export interface TusRoutesOptions {
  db: Pool;
  blobs: BlobStore;
  media: Media;
  /** Shared by the API hosts: the locks on uploads are taken there (else in this process). */
  redis: Redis | null;
  config: Pick<
    Config,
    | 'BLOB_STORE'
    | 'S3_BUCKET'
    | 'S3_ENDPOINT'
    | 'S3_REGION'
    | 'S3_FORCE_PATH_STYLE'
    | 'S3_ACCESS_KEY_ID'
    | 'S3_SECRET_ACCESS_KEY'
    | 'REDIS_PREFIX'
    | 'JARIMA_DATA_DIR'
    | 'EVIDENCE_MAX_BYTES'
    | 'EVIDENCE_DAILY_BYTES_PER_CITIZEN'
    | 'UPLOADS_OPEN_PER_CITIZEN'
    | 'RATE_LIMIT_SUBMIT_PER_MINUTE'
  >;
  /** Where unfinished uploads are kept: by default a directory under JARIMA_DATA_DIR (one host's). */
  datastore?: ReadableDataStore;
  /** Who may write to an upload at a time: by default this process's memory (one host). */
  locker?: Locker;
}

/**
 * Resumable evidence uploads over the tus 1.0 protocol (core, creation, termination, expiration), served by
 * @tus/server, so standard clients (tus-js-client, Uppy, TUSKit, tus-android-client) resume across dropped
 * connections. A citizen signs the requests like any other; creation checks the declared size against the daily
 * quota and the open uploads against UPLOADS_OPEN_PER_CITIZEN, and the finished file becomes evidence exactly as a
 * multipart upload does — its answer (the evidence, or the refusal) is the body of the PATCH that completes it.
 * Unfinished uploads expire after a day. Another citizen's upload is 404 to everyone else.
 */
export async function tusRoutes(app: App, opts: TusRoutesOptions): Promise<void> {
  const { db, blobs, media, config } = opts;
  const directory = path.join(config.JARIMA_DATA_DIR, 'tus');
  await mkdir(directory, { recursive: true });
  const datastore: ReadableDataStore = opts.datastore ?? (await tusStore(config, directory));
  const locker =
    opts.locker ?? (opts.redis ? new RedisLocker(opts.redis, config.REDIS_PREFIX) : new MemoryLocker());
  if (locker instanceof RedisLocker) app.addHook('onClose', async () => locker.close());
  const citizenOf = (req: { headers: Headers }) => req.headers.get(CITIZEN_HEADER) ?? '';

  const tus = new Server({
    path: TUS_PATH,
    datastore,
    locker,
    maxSize: config.EVIDENCE_MAX_BYTES,
    relativeLocation: true,
    // Upload ids are UUIDs like every other id (and upload_sessions rows share them).
    namingFunction: () => newId(),
    async onIncomingRequest(req, uploadId) {
      // Only the citizen who created an upload sees it; to anyone else it does not exist. (A POST names the upload
      // it is about to create.)
      if (req.method === 'POST') return;
      if (!isUuid(uploadId) || !(await findUploadSession(db, uploadId, citizenOf(req))))
        throw tusError('UPLOAD_NOT_FOUND');
    },
    async onUploadCreate(req, upload) {
      // The size and the quotas were checked before the request reached here (the POST handler below).
      const citizen = citizenOf(req);
      const filename = upload.metadata?.filename?.slice(0, 255) ?? null;
      await openUploadSession(db, {
        id: upload.id,
        citizenId: citizen,
        size: upload.size ?? 0,
        filename,
        hours: EXPIRY_HOURS,
      });
      return { metadata: { ...upload.metadata, citizen } };
    },
    async onUploadFinish(req, upload) {
      const out = await finish(req, upload).finally(() => forget(upload.id));
      return {
        status_code: out.created ? 201 : 200,
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify(out.body),
      };
    },
    onResponseError(_req, err) {
      // Lock timeouts and store failures are the server's, and temporary: say so, never a bare 500.
      const status = 'status_code' in err ? err.status_code : 500;
      if (status >= 500) app.log.error({ err }, 'tus upload failed');
      if (status >= 500) return { status_code: 503, body: errorBody('SERVICE_UNAVAILABLE') };
      // The tus server's own refusals (plain text) in our error format, with a stable code.
      const body = 'body' in err ? err.body : '';
      if (body.startsWith('{')) return undefined;
      const code = TUS_REFUSALS[status] ?? 'VALIDATION_FAILED';
      return {
        status_code: status,
        body: JSON.stringify({ code, message: body.trim() || ERRORS[code].message }),
      };
    },
  });

  const finish = async (req: { headers: Headers }, upload: Upload) => {
    const stream = await datastore.read(upload.id);
    return ingestEvidence(
      { db, blobs, media, config },
      {
        stream,
        truncated: () => false,
        citizenId: citizenOf(req),
        filename: upload.metadata?.filename ?? null,
        quotaReserved: true,
        log: app.log,
      },
    ).catch((err: unknown) => {
      throw err instanceof AppError ? fromAppError(err) : err;
    });
  };
  // The bytes of a finished (or refused) upload are evidence now, or nothing: the tus copy and the session go.
  const forget = async (id: string) => {
    await closeUploadSession(db, id);
    await datastore
      .remove(id)
      .catch((err: unknown) => app.log.warn({ err, upload: id }, 'tus upload not removed'));
  };
  tus.on('POST_TERMINATE', (_req, _res, id) => void closeUploadSession(db, id));

  /**
   * Before the tus server creates an upload: a declared size (no deferred length), within the daily quota, and a
   * free open-upload slot — refused here with our errors and Retry-After, like every other route.
   */
  const admit = async (request: FastifyRequest) => {
    const citizen = principalOf(request).id;
    const length = request.headers['upload-length'];
    if (request.headers['upload-defer-length'] !== undefined || length === undefined)
      throw new AppError('VALIDATION_FAILED', {
        field: 'Upload-Length',
        message: 'Declare the file size (Upload-Length); deferred lengths are not accepted.',
      });
    const size = Number(length);
    if (!/^\d{1,16}$/.test(String(length)) || size < 1)
      throw new AppError('VALIDATION_FAILED', { field: 'Upload-Length' });
    if (size > config.EVIDENCE_MAX_BYTES)
      throw new AppError('EVIDENCE_TOO_LARGE', {
        field: 'Upload-Length',
        details: { maxBytes: config.EVIDENCE_MAX_BYTES },
      });
    const [open, quota] = await Promise.all([
      openUploadCount(db, citizen),
      dailyQuota(db, citizen, config.EVIDENCE_DAILY_BYTES_PER_CITIZEN),
    ]);
    if (open >= config.UPLOADS_OPEN_PER_CITIZEN)
      throw new AppError('UPLOADS_OPEN_LIMIT', {
        details: { open, max: config.UPLOADS_OPEN_PER_CITIZEN, retryAfterSeconds: 60 },
      });
    if (size > quota.left) throw quotaError(quota.retryAfterSeconds);
  };

  /** GET: where the upload stands, as JSON (HEAD, its twin, is tus's answer in headers). */
  const where = async (request: FastifyRequest, reply: FastifyReply) => {
    const { id } = request.params as { id: string };
    if (!isUuid(id) || !(await findUploadSession(db, id, principalOf(request).id)))
      throw new AppError('UPLOAD_NOT_FOUND');
    const upload = await datastore.getUpload(id).catch(() => {
      throw new AppError('UPLOAD_NOT_FOUND');
    });
    return reply.send({ id, offset: upload.offset, size: upload.size ?? null });
  };

  await app.register(async (scope) => {
    // The body is the tus server's to read, whatever its type.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    const handOver = (signedIn: boolean) => async (request: FastifyRequest, reply: FastifyReply) => {
      const raw = request.raw;
      // The tus server reads the raw header list: whatever the client sent under our header is dropped there too.
      const kept: string[] = [];
      for (let i = 0; i < raw.rawHeaders.length; i += 2)
        if (raw.rawHeaders[i]!.toLowerCase() !== CITIZEN_HEADER)
          kept.push(raw.rawHeaders[i]!, raw.rawHeaders[i + 1]!);
      delete raw.headers[CITIZEN_HEADER];
      if (signedIn) {
        const id = principalOf(request).id;
        raw.headers[CITIZEN_HEADER] = id;
        kept.push(CITIZEN_HEADER, id);
      }
      raw.rawHeaders.splice(0, raw.rawHeaders.length, ...kept);
      if (request.method === 'POST') await admit(request);
      if (request.method === 'GET') return where(request, reply);
      reply.hijack();
      await tus.handle(raw, reply.raw);
    };
    const doc = (summary: string, signedIn = true) => ({
      tags: ['evidence'],
      summary,
      ...(signedIn ? { security: [{ bearer: [] }] } : {}),
    });
    const citizen = {
      preHandler: requireRole('citizen'),
      handler: handOver(true),
      config: { shed: 'write' as const },
    };
    scope.post(TUS_PATH, {
      ...citizen,
      config: { ...perCitizenRateLimit('evidence', config.RATE_LIMIT_SUBMIT_PER_MINUTE), shed: 'write' },
      schema: doc('tus: create an upload of `Upload-Length` bytes (tus 1.0 creation); Location names it'),
    });
    const summaries = {
      GET: 'Where a tus upload stands, as JSON {id, offset, size}; HEAD is tus’s own form of the question',
      PATCH:
        'tus: append a chunk at `Upload-Offset`; the chunk that completes the file answers with the evidence',
      DELETE: 'tus: end an unfinished upload (termination)',
    } as const;
    for (const method of ['GET', 'PATCH', 'DELETE'] as const)
      scope.route({
        method,
        url: `${TUS_PATH}/:id`,
        ...citizen,
        schema: { ...doc(summaries[method]), params: UploadParams },
      });
    // Discovery (Tus-Version, Tus-Extension, Tus-Max-Size) needs no sign-in.
    for (const url of [TUS_PATH, `${TUS_PATH}/:id`])
      scope.route({
        method: 'OPTIONS',
        url,
        handler: handOver(false),
        schema: doc('tus: the protocol versions, extensions and size limit the server supports', false),
      });
  });

  // Expired uploads (abandoned for a day) are removed here, where their bytes are: hourly, the first after a minute.
  const sweep = async () => {
    const removed = await tus.cleanUpExpiredUploads().catch((err: unknown) => {
      app.log.warn({ err }, 'could not remove expired tus uploads');
      return 0;
    });
    if (removed) app.log.info({ removed }, 'removed expired tus uploads');
  };
  const first = setTimeout(() => void sweep(), 60_000);
  const every = setInterval(() => void sweep(), 3_600_000);
  first.unref();
  every.unref();
  app.addHook('onClose', async () => {
    clearTimeout(first);
    clearInterval(every);
  });
}

/**
 * Where unfinished uploads are kept: with the evidence in the bucket (BLOB_STORE=s3; @tus/s3-store, as S3 multipart
 * uploads, so any API host continues any upload), else in a directory of this host (@tus/file-store).
 */
async function tusStore(config: TusRoutesOptions['config'], directory: string): Promise<ReadableDataStore> {
  const expirationPeriodInMilliseconds = EXPIRY_HOURS * 3_600_000;
  if (config.BLOB_STORE !== 's3') return new FileStore({ directory, expirationPeriodInMilliseconds });
  const { S3Store } = await import('@tus/s3-store');
  const { s3ClientConfigFor } = await import('./s3-blob-store.js');
  return new S3Store({
    partSize: 8 * 1024 * 1024,
    expirationPeriodInMilliseconds,
    // Expiry is by the upload's own record; a bucket lifecycle rule needs no object tags here.
    useTags: false,
    s3ClientConfig: { ...s3ClientConfigFor(config), bucket: config.S3_BUCKET! },
  });
}

/** Our codes for what @tus/server refuses by itself (a missing Tus-Resumable, a wrong offset …). */
const TUS_REFUSALS: Record<number, ErrorCode> = {
  404: 'UPLOAD_NOT_FOUND',
  410: 'UPLOAD_NOT_FOUND',
  409: 'UPLOAD_OFFSET_MISMATCH',
  413: 'EVIDENCE_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  403: 'FORBIDDEN',
};

/** One of our errors as the tus server sends it: the status, and our JSON error body. */
function tusError(
  code: ErrorCode,
  opts: { field?: string; message?: string; details?: Record<string, unknown> } = {},
): { status_code: number; body: string } {
  return fromAppError(new AppError(code, opts));
}

function fromAppError(err: AppError): { status_code: number; body: string } {
  return {
    status_code: err.status,
    body: JSON.stringify({
      code: err.code,
      message: err.message,
      ...(err.field ? { field: err.field } : {}),
      ...(err.details ? { details: err.details } : {}),
    }),
  };
}

function errorBody(code: ErrorCode): string {
  return JSON.stringify({ code, message: ERRORS[code].message });
}
