import type { FastifyRequest } from 'fastify';
import { AppError } from '../platform/errors/catalog.js';
import { hmac, safeEqual } from '../platform/security/keys.js';

/**
 * What a driver holds after looking a case up by plate and ruling number (no account): base64url(JSON {c, e}) "."
 * base64url(HMAC-SHA256) under its own derived key (Keys.caseToken). It names the report of the case and nothing
 * else — never the reporter — and expires; every driver route checks it and reads the case by that id only, so a
 * token opens exactly one case.
 */
export interface CaseClaim {
  /** The report the ruling was issued on. */
  reportId: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** How long a looked-up case stays open in the driver's browser before the plate and ruling are asked again. */
export const CASE_TOKEN_TTL_SECONDS = 2 * 3600;

export function issueCaseToken(
  key: Buffer,
  claim: CaseClaim,
  ttlSeconds = CASE_TOKEN_TTL_SECONDS,
  now = Date.now(),
) {
  const payload = Buffer.from(
    JSON.stringify({ c: claim.reportId, e: Math.floor(now / 1000) + ttlSeconds }),
  ).toString('base64url');
  return `${payload}.${hmac(key, 'case', payload).toString('base64url')}`;
}

export function verifyCaseToken(key: Buffer, token: string, now = Date.now()): CaseClaim {
  const dot = token.indexOf('.');
  if (dot <= 0) throw new AppError('CASE_TOKEN_INVALID');
  const payload = token.slice(0, dot);
  if (!safeEqual(Buffer.from(token.slice(dot + 1), 'base64url'), hmac(key, 'case', payload)))
    throw new AppError('CASE_TOKEN_INVALID');
  let claims: { c?: unknown; e?: unknown };
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new AppError('CASE_TOKEN_INVALID');
  }
  if (typeof claims.c !== 'string' || !UUID.test(claims.c) || typeof claims.e !== 'number')
    throw new AppError('CASE_TOKEN_INVALID');
  if (claims.e * 1000 <= now) throw new AppError('CASE_TOKEN_INVALID');
  return { reportId: claims.c };
}

/**
 * The case a driver request is about: the token from `X-Case-Token`, or from the `case` query parameter where a
 * browser cannot set a header (an `<img>` or `<video>` source). 401 CASE_TOKEN_INVALID without a valid one.
 */
export function caseOf(key: Buffer, req: FastifyRequest): CaseClaim {
  const header = req.headers['x-case-token'];
  const query = (req.query as { case?: unknown } | undefined)?.case;
  const token = typeof header === 'string' ? header : typeof query === 'string' ? query : null;
  if (!token) throw new AppError('CASE_TOKEN_INVALID');
  return verifyCaseToken(key, token);
}
