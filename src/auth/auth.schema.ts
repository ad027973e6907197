import { type Static, Type as T } from '@sinclair/typebox';
import { ROLES } from './roles.js';

const Phone = T.String({
  minLength: 9,
  maxLength: 24,
  pattern: '^[+0-9 ()\\-.]+$',
  examples: ['+998901234567'],
});

export const OtpRequestBody = T.Object({ phone: Phone }, { additionalProperties: false });

export const OtpSentResponse = T.Object({
  sentTo: T.String(),
  expiresInSeconds: T.Integer(),
  resendAfterSeconds: T.Integer(),
});

export const OtpVerifyBody = T.Object(
  { phone: Phone, code: T.String({ pattern: '^[0-9]{6}$' }) },
  { additionalProperties: false },
);

export const TokenResponse = T.Object({
  token: T.String({ description: 'Access token: send as `Authorization: Bearer …`' }),
  tokenType: T.Literal('Bearer'),
  expiresAt: T.String({ format: 'date-time', description: 'When the access token stops working (≤ 15 min)' }),
  refreshToken: T.String({ description: 'Single use: POST /v1/auth/refresh returns a new pair' }),
  refreshExpiresAt: T.String({ format: 'date-time', description: 'When the session ends, refreshed or not' }),
  sessionId: T.String({ format: 'uuid' }),
  role: T.Union(ROLES.map((r) => T.Literal(r))),
  subjectId: T.String({ format: 'uuid' }),
});
export type TokenResponse = Static<typeof TokenResponse>;

export const MeResponse = T.Object({
  id: T.String(),
  role: T.String(),
  phone: T.Optional(T.String({ description: 'Masked; citizens only' })),
  login: T.Optional(T.String()),
  displayName: T.Optional(T.String()),
  totpEnrolled: T.Optional(T.Boolean({ description: 'Staff only: two-factor sign-in is set up' })),
  totpRequired: T.Optional(T.Boolean({ description: 'Staff only: the role must use two-factor sign-in' })),
});
