import { createHash, randomBytes } from 'node:crypto';
import { audit } from '../audit/audit.js';
import { type Pool, type Queryable, withTransaction } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { checkPassword } from './passwords.js';
import { revokeOtherSessions, revokeSubjectSessions } from './sessions.js';
import { beginSignInAttempt, clearSignInFailures, type ThrottleConfig } from './sign-in-throttle.js';
import { hashPassword, setStaffPasswordHash, staffPasswordMatches } from './staff.js';

/**
 * One-time links that let a person set their own password: for a new account ('set'), after an administrator's
 * reset ('reset'), for the first administrator of an installation ('bootstrap'). The token (32 random bytes) travels
 * in the URL fragment, which browsers never send to a server, so it stays out of access logs; only its SHA-256 is
 * stored.
 */
export type LinkPurpose = 'set' | 'reset' | 'bootstrap';
export const DEFAULT_LINK_TTL_HOURS = 72;

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** Makes a new link for the account, voiding its older unused ones. Pass the caller's transaction. */
export async function createPasswordLink(
  db: Queryable,
  input: {
    staffId: string;
    purpose: LinkPurpose;
    createdBy: string | null;
    baseUrl: string;
    /** PASSWORD_LINK_TTL_HOURS; 72 when not given. */
    ttlHours?: number;
  },
): Promise<{ url: string; token: string; expiresAt: Date }> {
  const token = randomBytes(32).toString('base64url');
  await db.query(
    `update password_links set expires_at = least(expires_at, now())
      where staff_id = $1 and used_at is null`,
    [input.staffId],
  );
  const { rows } = await db.query<{ expires_at: Date }>(
    `insert into password_links (token_hash, staff_id, purpose, created_by, expires_at)
     values ($1, $2, $3, $4, now() + make_interval(hours => $5)) returning expires_at`,
    [sha256(token), input.staffId, input.purpose, input.createdBy, input.ttlHours ?? DEFAULT_LINK_TTL_HOURS],
  );
  const base = input.baseUrl.replace(/\/+$/, '');
  return { url: `${base}/staff/set-password#token=${token}`, token, expiresAt: rows[0]!.expires_at };
}

export interface PasswordLinkInfo {
  staffId: string;
  login: string;
  displayName: string;
  purpose: LinkPurpose;
  expiresAt: Date;
}

/** The live link for `token`: 404 LINK_INVALID (unknown, or a disabled account), 410 LINK_EXPIRED | LINK_USED. */
export async function findPasswordLink(
  db: Queryable,
  token: string,
  lock = false,
): Promise<PasswordLinkInfo> {
  const { rows } = await db.query<{
    staff_id: string;
    login: string;
    display_name: string;
    purpose: LinkPurpose;
    expires_at: Date;
    used_at: Date | null;
    expired: boolean;
  }>(
    `select l.staff_id, s.login, s.display_name, l.purpose, l.expires_at, l.used_at, l.expires_at <= now() as expired
       from password_links l join staff s on s.id = l.staff_id
      where l.token_hash = $1 and s.active ${lock ? 'for update of l' : ''}`,
    [sha256(token)],
  );
  const r = rows[0];
  if (!r) throw new AppError('LINK_INVALID', { field: 'token' });
  if (r.used_at) throw new AppError('LINK_USED', { field: 'token' });
  if (r.expired) throw new AppError('LINK_EXPIRED', { field: 'token' });
  return {
    staffId: r.staff_id,
    login: r.login,
    displayName: r.display_name,
    purpose: r.purpose,
    expiresAt: r.expires_at,
  };
}

interface RequestContext {
  ip?: string;
  userAgent?: string;
}

/**
 * Sets the password through a link: checks the policy, then in one transaction spends the link, stores the hash,
 * ends every session of the account and clears its sign-in failures.
 */
export async function setPasswordWithLink(
  pool: Pool,
  token: string,
  password: string,
  ctx: RequestContext,
): Promise<void> {
  const link = await findPasswordLink(pool, token);
  checkPassword(password, link);
  // Hashing takes tens of milliseconds of CPU: done before the row lock is taken.
  const hash = await hashPassword(password);
  await withTransaction(pool, async (trx) => {
    const locked = await findPasswordLink(trx, token, true);
    await trx.query('update password_links set used_at = now() where token_hash = $1', [sha256(token)]);
    await setStaffPasswordHash(trx, locked.staffId, hash);
    await revokeSubjectSessions(trx, locked.staffId, 'password_set');
    await clearSignInFailures(trx, locked.login);
    await audit(trx, {
      actorId: locked.staffId,
      action: 'password_set',
      targetKind: 'staff',
      targetId: locked.staffId,
      detail: { purpose: locked.purpose },
      ...ctx,
    });
  });
}

/** A signed-in staff member changes their own password; their other sessions end. */
export async function changeOwnPassword(
  pool: Pool,
  who: { staffId: string; sessionId: string; login: string; displayName: string },
  current: string,
  next: string,
  ctx: RequestContext,
  throttle: ThrottleConfig,
): Promise<void> {
  // Counted like a sign-in: a stolen access token must not become a way to guess the password.
  await beginSignInAttempt(pool, who.login, throttle);
  if (!(await staffPasswordMatches(pool, who.staffId, current))) {
    await audit(pool, {
      actorId: who.staffId,
      action: 'password_changed',
      outcome: 'denied',
      targetKind: 'staff',
      targetId: who.staffId,
      detail: { reason: 'wrong_password' },
      ...ctx,
    });
    throw new AppError('PASSWORD_WRONG', { field: 'currentPassword' });
  }
  // The right current password is a success for the count, whether or not the new one passes the policy.
  await clearSignInFailures(pool, who.login);
  try {
    checkPassword(next, who);
  } catch (err) {
    if (err instanceof AppError) throw new AppError(err.code, { field: 'newPassword', details: err.details });
    throw err;
  }
  const hash = await hashPassword(next);
  await withTransaction(pool, async (trx) => {
    await setStaffPasswordHash(trx, who.staffId, hash);
    await revokeOtherSessions(trx, who.staffId, who.sessionId, 'password_changed');
    await clearSignInFailures(trx, who.login);
    await audit(trx, {
      actorId: who.staffId,
      action: 'password_changed',
      targetKind: 'staff',
      targetId: who.staffId,
      ...ctx,
    });
  });
}
