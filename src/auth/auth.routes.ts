import { requestOrigin } from '../audit/audit.js';
import type { SmsGateway } from '../integrations/sms/port.js';
import type { Config } from '../platform/config/config.js';
import type { Pool } from '../platform/db/pool.js';
import { type App, errorResponses } from '../platform/http/types.js';
import { decrypt, type Keys } from '../platform/security/keys.js';
import { citizenPhoneEnc, staffNames } from './auth.repository.js';
import { MeResponse, OtpRequestBody, OtpSentResponse, OtpVerifyBody, TokenResponse } from './auth.schema.js';
import { principalOf, requireRole } from './guard.js';
import { type OtpDeps, requestOtp, verifyOtp } from './otp.service.js';
import { maskPhone, normalisePhone } from './phone.js';
import { openSession, type SessionDeps } from './sessions.js';
import { ROLES } from './tokens.js';
import { totpRequiredRoles } from './totp.js';

export interface AuthRoutesOptions {
  db: Pool;
  keys: Keys;
  /** Sends the one-time codes. */
  sms: SmsGateway;
  config: OtpDeps['config'] &
    Pick<Config, 'RATE_LIMIT_AUTH_PER_MINUTE' | 'TOTP_REQUIRED_ROLES'> &
    SessionDeps['config'];
}

/** Citizens sign in with a phone and a one-time code (staff: src/auth/staff-sign-in.routes.ts). */
export async function authRoutes(app: App, opts: AuthRoutesOptions): Promise<void> {
  const { db, keys, sms, config } = opts;
  const otp: OtpDeps = { pool: db, keys, sms, config };
  const authLimit = { rateLimit: { max: config.RATE_LIMIT_AUTH_PER_MINUTE, timeWindow: 60_000 } };
  const sessions: SessionDeps = { keys, config };

  app.post(
    '/v1/auth/otp',
    {
      config: authLimit,
      schema: {
        tags: ['auth'],
        summary: 'Send a one-time sign-in code to a phone by SMS',
        body: OtpRequestBody,
        response: { 202: OtpSentResponse, ...errorResponses(400, 429, 503) },
      },
    },
    async (request, reply) => {
      const phone = normalisePhone(request.body.phone);
      const { expiresInSeconds } = await requestOtp(otp, phone, request.ip);
      return reply
        .status(202)
        .send({ sentTo: maskPhone(phone), expiresInSeconds, resendAfterSeconds: config.OTP_RESEND_SECONDS });
    },
  );

  app.post(
    '/v1/auth/otp/verify',
    {
      config: authLimit,
      schema: {
        tags: ['auth'],
        summary: 'Exchange the phone and its one-time code for a citizen token',
        body: OtpVerifyBody,
        response: { 200: TokenResponse, ...errorResponses(400, 401, 429) },
      },
    },
    async (request) => {
      const phone = normalisePhone(request.body.phone);
      const { citizenId } = await verifyOtp(otp, phone, request.body.code);
      return openSession(db, sessions, { subjectId: citizenId, role: 'citizen' }, requestOrigin(request));
    },
  );

  app.get(
    '/v1/me',
    {
      preHandler: requireRole(...ROLES),
      schema: {
        tags: ['auth'],
        summary: 'Who the token belongs to',
        security: [{ bearer: [] }],
        response: { 200: MeResponse, ...errorResponses(401) },
      },
    },
    async (request) => {
      const me = principalOf(request);
      if (me.role === 'citizen') {
        const phoneEnc = await citizenPhoneEnc(db, me.id);
        return {
          id: me.id,
          role: me.role,
          phone: phoneEnc ? maskPhone(decrypt(keys.phoneEnc, phoneEnc)) : undefined,
        };
      }
      const names = await staffNames(db, me.id);
      return {
        id: me.id,
        role: me.role,
        login: names?.login,
        displayName: names?.display_name,
        totpEnrolled: names?.totp_enrolled ?? false,
        totpRequired: totpRequiredRoles(config).has(me.role),
      };
    },
  );
}
