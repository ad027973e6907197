import { AppError } from '../platform/errors/catalog.js';
import { hmac, safeEqual } from '../platform/security/keys.js';
import { ROLES, type Role } from './roles.js';

export { ROLES, type Role };

export type StaffRole = Exclude<Role, 'citizen'>;

export interface Principal {
  id: string;
  role: Role;
  /** The session (auth_sessions) the token was issued for: revoking it ends the token at once. */
  sid: string;
}

/**
 * Short-lived access tokens: base64url(JSON {s, r, i, e}) "." base64url(HMAC-SHA256). The signature and expiry cost
 * one HMAC; whether the session `i` is still live is checked by the SessionGuard (src/auth/sessions.ts).
 */
export function issueToken(key: Buffer, principal: Principal, ttlSeconds: number, now = Date.now()): string {
  const payload = Buffer.from(
    JSON.stringify({
      s: principal.id,
      r: principal.role,
      i: principal.sid,
      e: Math.floor(now / 1000) + ttlSeconds,
    }),
  ).toString('base64url');
  return `${payload}.${hmac(key, payload).toString('base64url')}`;
}

// A session id is a uuid: anything else could not name a session, and must not reach a query of a uuid column.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function verifyToken(key: Buffer, token: string, now = Date.now()): Principal {
  const dot = token.indexOf('.');
  if (dot <= 0) throw new AppError('TOKEN_INVALID');
  const payload = token.slice(0, dot);
  const sig = Buffer.from(token.slice(dot + 1), 'base64url');
  if (!safeEqual(sig, hmac(key, payload))) throw new AppError('TOKEN_INVALID');
  let claims: { s?: unknown; r?: unknown; i?: unknown; e?: unknown };
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new AppError('TOKEN_INVALID');
  }
  if (
    typeof claims.s !== 'string' ||
    typeof claims.i !== 'string' ||
    !UUID.test(claims.i) ||
    typeof claims.e !== 'number' ||
    !ROLES.includes(claims.r as Role)
  ) {
    throw new AppError('TOKEN_INVALID');
  }
  if (claims.e * 1000 <= now) throw new AppError('TOKEN_EXPIRED');
  return { id: claims.s, role: claims.r as Role, sid: claims.i };
}
