import { AppError } from '../platform/errors/catalog.js';
import { hmac, safeEqual } from '../platform/security/keys.js';
import { ROLES, type Role } from './roles.js';

export { ROLES, type Role };

export type StaffRole = Exclude<Role, 'citizen'>;

export interface Principal {
  id: string;
  role: Role;
}

/**
 * Stateless bearer tokens: base64url(JSON {s, r, e}) "." base64url(HMAC-SHA256). Verifying costs one HMAC and no
 * database round trip, which keeps the intake hot path to its one transaction.
 */
export function issueToken(key: Buffer, principal: Principal, ttlSeconds: number, now = Date.now()): string {
  const payload = Buffer.from(
    JSON.stringify({ s: principal.id, r: principal.role, e: Math.floor(now / 1000) + ttlSeconds }),
  ).toString('base64url');
  return `${payload}.${hmac(key, payload).toString('base64url')}`;
}

export function verifyToken(key: Buffer, token: string, now = Date.now()): Principal {
  const dot = token.indexOf('.');
  if (dot <= 0) throw new AppError('TOKEN_INVALID');
  const payload = token.slice(0, dot);
  const sig = Buffer.from(token.slice(dot + 1), 'base64url');
  if (!safeEqual(sig, hmac(key, payload))) throw new AppError('TOKEN_INVALID');
  let claims: { s?: unknown; r?: unknown; e?: unknown };
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new AppError('TOKEN_INVALID');
  }
  if (
    typeof claims.s !== 'string' ||
    typeof claims.e !== 'number' ||
    !ROLES.includes(claims.r as Role) ||
    claims.e * 1000 <= now
  ) {
    throw new AppError('TOKEN_INVALID');
  }
  return { id: claims.s, role: claims.r as Role };
}
