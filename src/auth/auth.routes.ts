import { Type as T } from '@sinclair/typebox';
import type { Deps } from '../app/deps.js';
import { type App, errorResponses } from '../platform/http/types.js';
import { decrypt } from '../platform/security/keys.js';
import { principalOf, requireRole } from './guard.js';
import { requestOtp, verifyOtp } from './otp.service.js';
import { maskPhone, normalisePhone } from './phone.js';
import { authenticateStaff } from './staff.js';
import { issueToken, ROLES } from './tokens.js';

const Phone = T.String({
  minLength: 9,
  maxLength: 24,
  pattern: '^[+0-9 ()\\-.]+$',
  examples: ['+998901234567'],
});
const TokenResponse = T.Object({
  token: T.String(),
  tokenType: T.Literal('Bearer'),
  expiresAt: T.String({ format: 'date-time' }),
  role: T.Union(ROLES.map((r) => T.Literal(r))),
  subjectId: T.String({ format: 'uuid' }),
});

export function authRoutes(app: App, deps: Deps): void {
  const { config, keys } = deps;
  const authLimit = { rateLimit: { max: config.RATE_LIMIT_AUTH_PER_MINUTE, timeWindow: 60_000 } };
  const ttl = config.TOKEN_TTL_HOURS * 3600;
  const tokenFor = (subjectId: string, role: (typeof ROLES)[number]) => ({
    token: issueToken(keys.token, { id: subjectId, role }, ttl),
    tokenType: 'Bearer' as const,
    expiresAt: new Date(Date.now() + ttl * 1000).toISOString(),
    role,
    subjectId,
  });

  app.post(
    '/v1/auth/otp',
    {
      config: authLimit,
      schema: {
        tags: ['auth'],
        summary: 'Send a one-time sign-in code to a phone by SMS',
        body: T.Object({ phone: Phone }, { additionalProperties: false }),
        response: {
          202: T.Object({
            sentTo: T.String(),
            expiresInSeconds: T.Integer(),
            resendAfterSeconds: T.Integer(),
          }),
          ...errorResponses(400, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const phone = normalisePhone(request.body.phone);
      const { expiresInSeconds } = await requestOtp(deps, phone, request.ip);
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
        body: T.Object(
          { phone: Phone, code: T.String({ pattern: '^[0-9]{6}$' }) },
          { additionalProperties: false },
        ),
        response: { 200: TokenResponse, ...errorResponses(400, 401, 429) },
      },
    },
    async (request) => {
      const phone = normalisePhone(request.body.phone);
      const { citizenId } = await verifyOtp(deps, phone, request.body.code);
      return tokenFor(citizenId, 'citizen');
    },
  );

  app.post(
    '/v1/auth/login',
    {
      config: authLimit,
      schema: {
        tags: ['auth'],
        summary: 'Staff sign-in with login and password',
        body: T.Object(
          {
            login: T.String({ minLength: 1, maxLength: 64, pattern: '^[^\\u0000-\\u001f]+$' }),
            password: T.String({ minLength: 1, maxLength: 256 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: TokenResponse, ...errorResponses(400, 401, 429) },
      },
    },
    async (request) => {
      const member = await authenticateStaff(deps.pool, request.body.login, request.body.password);
      return tokenFor(member.id, member.role);
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
        response: {
          200: T.Object({
            id: T.String(),
            role: T.String(),
            phone: T.Optional(T.String({ description: 'Masked; citizens only' })),
            login: T.Optional(T.String()),
            displayName: T.Optional(T.String()),
          }),
          ...errorResponses(401),
        },
      },
    },
    async (request) => {
      const me = principalOf(request);
      if (me.role === 'citizen') {
        const { rows } = await deps.pool.query<{ phone_enc: Buffer }>(
          'select phone_enc from citizens where id = $1',
          [me.id],
        );
        return {
          id: me.id,
          role: me.role,
          phone: rows[0] ? maskPhone(decrypt(keys.phoneEnc, rows[0].phone_enc)) : undefined,
        };
      }
      const { rows } = await deps.pool.query<{ login: string; display_name: string }>(
        'select login, display_name from staff where id = $1',
        [me.id],
      );
      return { id: me.id, role: me.role, login: rows[0]?.login, displayName: rows[0]?.display_name };
    },
  );
}
