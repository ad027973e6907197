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

export const LoginBody = T.Object(
  {
    login: T.String({ minLength: 1, maxLength: 64, pattern: '^[^\\u0000-\\u001f]+$' }),
    password: T.String({ minLength: 1, maxLength: 256 }),
  },
  { additionalProperties: false },
);

export const TokenResponse = T.Object({
  token: T.String(),
  tokenType: T.Literal('Bearer'),
  expiresAt: T.String({ format: 'date-time' }),
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
});
