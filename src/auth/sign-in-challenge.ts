import { AppError } from '../platform/errors/catalog.js';
import { hmac, safeEqual } from '../platform/security/keys.js';

/**
 * The step between a correct password and the second factor: base64url(JSON {s, k, p, e}) "." HMAC, naming the staff
 * member, what they must do next ('totp': give a code; 'enrol': set two-factor sign-in up) and the password it
 * followed (a stamp of its hash: a password reset voids the challenge), good for 5 minutes.
 */
export type ChallengeKind = 'totp' | 'enrol';
export const CHALLENGE_SECONDS = 300;

export function issueChallenge(
  key: Buffer,
  c: { staffId: string; kind: ChallengeKind; passwordStamp: string | null },
  now = Date.now(),
): { challenge: string; challengeExpiresAt: string } {
  const expires = Math.floor(now / 1000) + CHALLENGE_SECONDS;
  const payload = Buffer.from(
    JSON.stringify({ s: c.staffId, k: c.kind, p: c.passwordStamp, e: expires }),
  ).toString('base64url');
  return {
    challenge: `${payload}.${hmac(key, 'challenge', payload).toString('base64url')}`,
    challengeExpiresAt: new Date(expires * 1000).toISOString(),
  };
}

/** The staff member and password stamp a live challenge of `kind` names; CHALLENGE_INVALID otherwise. */
export function readChallenge(
  key: Buffer,
  challenge: string,
  kind: ChallengeKind,
  now = Date.now(),
): { staffId: string; passwordStamp: string } {
  const invalid = new AppError('CHALLENGE_INVALID', { field: 'challenge' });
  const dot = challenge.indexOf('.');
  if (dot <= 0) throw invalid;
  const payload = challenge.slice(0, dot);
  if (!safeEqual(Buffer.from(challenge.slice(dot + 1), 'base64url'), hmac(key, 'challenge', payload)))
    throw invalid;
  let claims: { s?: unknown; k?: unknown; p?: unknown; e?: unknown };
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  if (
    typeof claims.s !== 'string' ||
    claims.k !== kind ||
    typeof claims.p !== 'string' ||
    typeof claims.e !== 'number'
  )
    throw invalid;
  if (claims.e * 1000 <= now) throw invalid;
  return { staffId: claims.s, passwordStamp: claims.p };
}
