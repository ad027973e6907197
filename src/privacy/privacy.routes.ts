import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { FastifyRequest } from 'fastify';
import { principalOf, requireRole } from '../auth/guard.js';
import { type OtpDeps, requestOtp, verifyOtp } from '../auth/otp.service.js';
import { maskPhone } from '../auth/phone.js';
import type { BlobStore } from '../evidence/blob-store.js';
import type { SmsGateway } from '../integrations/sms/port.js';
import type { Config } from '../platform/config/config.js';
import type { Pool } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { type App, errorResponses } from '../platform/http/types.js';
import { decrypt, hmac, type Keys } from '../platform/security/keys.js';
import { eraseCitizen } from './erasure.js';
import { exportEntries } from './export.js';
import { AccountDeleted, DeleteAccountBody, DeletionCodeSent } from './privacy.schema.js';
import { tarStream } from './tar.js';

export interface PrivacyRoutesOptions {
  db: Pool;
  blobs: BlobStore;
  keys: Keys;
  sms: SmsGateway;
  config: OtpDeps['config'] & Pick<Config, 'RATE_LIMIT_EXPORTS_PER_HOUR' | 'RATE_LIMIT_AUTH_PER_MINUTE'>;
}

/** A citizen's data rights: their data as one archive, and their account's deletion (docs/privacy.md). */
export async function privacyRoutes(app: App, opts: PrivacyRoutesOptions): Promise<void> {
  const { db, keys, config } = opts;
  const otp: OtpDeps = { pool: db, keys, sms: opts.sms, config };
  const citizenLimit = (bucket: string, max: number, timeWindow: number) => ({
    rateLimit: {
      max,
      timeWindow,
      hook: 'preHandler' as const,
      keyGenerator: (req: FastifyRequest) => `${bucket}:${req.principal?.id ?? req.ip}`,
    },
  });
  /** The signed-in citizen's phone; an erased account has none (and no live session either). */
  const phoneOf = async (citizenId: string): Promise<string> => {
    const { rows } = await db.query<{ phone_enc: Buffer | null }>(
      'select phone_enc from citizens where id = $1',
      [citizenId],
    );
    const sealed = rows[0]?.phone_enc;
    if (!sealed) throw new AppError('UNAUTHENTICATED');
    return decrypt(keys.phoneEnc, sealed);
  };

  app.get(
    '/v1/me/export',
    {
      // Each export reads all the citizen's evidence: a few an hour is plenty for a person, and bounds the cost.
      config: citizenLimit('export', config.RATE_LIMIT_EXPORTS_PER_HOUR, 3_600_000),
      preHandler: requireRole('citizen'),
      schema: {
        tags: ['privacy'],
        summary:
          'All your data as one archive (tar.gz): account, reports with events, notifications, rewards, evidence',
        security: [{ bearer: [] }],
        produces: ['application/gzip'],
        response: { ...errorResponses(401, 403, 429) },
      },
    },
    async (request, reply) => {
      const me = principalOf(request);
      const gzip = createGzip();
      // The archive is written as it is read; a failure mid-way (a blob gone) cuts the download short, and the
      // truncated gzip tells the client it is incomplete.
      pipeline(Readable.from(tarStream(exportEntries({ db, blobs: opts.blobs, keys }, me.id))), gzip).catch(
        (err: unknown) => request.log.warn({ err }, 'data export cut short'),
      );
      return reply
        .type('application/gzip')
        .header('content-disposition', 'attachment; filename="jarima-my-data.tar.gz"')
        .header('cache-control', 'no-store')
        .send(gzip);
    },
  );

  app.post(
    '/v1/me/deletion-code',
    {
      config: citizenLimit('deletion-code', config.RATE_LIMIT_AUTH_PER_MINUTE, 60_000),
      preHandler: requireRole('citizen'),
      schema: {
        tags: ['privacy'],
        summary: "Send a code to your phone that confirms your account's deletion (DELETE /v1/me)",
        security: [{ bearer: [] }],
        response: { 202: DeletionCodeSent, ...errorResponses(401, 403, 429, 503) },
      },
    },
    async (request, reply) => {
      const phone = await phoneOf(principalOf(request).id);
      const { expiresInSeconds } = await requestOtp(otp, phone, request.ip);
      return reply
        .status(202)
        .send({ sentTo: maskPhone(phone), expiresInSeconds, resendAfterSeconds: config.OTP_RESEND_SECONDS });
    },
  );

  app.delete(
    '/v1/me',
    {
      config: citizenLimit('delete-account', config.RATE_LIMIT_AUTH_PER_MINUTE, 60_000),
      preHandler: requireRole('citizen'),
      schema: {
        tags: ['privacy'],
        summary:
          'Delete your account, confirmed by the code sent to your phone (what is kept: docs/privacy.md)',
        security: [{ bearer: [] }],
        body: DeleteAccountBody,
        response: { 200: AccountDeleted, ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (request): Promise<AccountDeleted> => {
      const me = principalOf(request);
      const phone = await phoneOf(me.id);
      // The sign-in code check: wrong guesses count against the code, the right one is used up.
      const { citizenId } = await verifyOtp(otp, phone, request.body.code);
      if (citizenId !== me.id) throw new AppError('OTP_INVALID', { field: 'code' });
      const r = await eraseCitizen(
        { pool: db, blobs: opts.blobs },
        { id: me.id, phoneHash: hmac(keys.phoneHash, phone) },
      );
      return { withdrawnReports: r.withdrawn, keptReports: r.keptReports, purgedEvidence: r.purgedEvidence };
    },
  );
}
