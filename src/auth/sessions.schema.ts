import { Type as T } from '@sinclair/typebox';

export const RefreshBody = T.Object(
  {
    refreshToken: T.String({ minLength: 40, maxLength: 200, pattern: '^[0-9a-f-]{36}\\.[A-Za-z0-9_-]{43}$' }),
  },
  { additionalProperties: false },
);

export const SessionIdParams = T.Object({ id: T.String({ format: 'uuid' }) });

export const SessionItem = T.Object({
  id: T.String({ format: 'uuid' }),
  createdAt: T.String({ format: 'date-time' }),
  lastUsedAt: T.String({ format: 'date-time' }),
  expiresAt: T.String({ format: 'date-time' }),
  ip: T.Union([T.String(), T.Null()]),
  userAgent: T.Union([T.String(), T.Null()]),
  current: T.Boolean({ description: 'The session of the token making this request' }),
});

export const SessionsResponse = T.Object({ items: T.Array(SessionItem) });
