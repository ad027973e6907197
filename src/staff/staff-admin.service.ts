import { audit } from '../audit/audit.js';
import { createPasswordLink } from '../auth/password-links.js';
import { revokeSubjectSessions } from '../auth/sessions.js';
import { unlockSignIn } from '../auth/sign-in-throttle.js';
import { normaliseLogin } from '../auth/staff.js';
import type { StaffRole } from '../auth/tokens.js';
import { resetTotp } from '../auth/totp.js';
import type { Config } from '../platform/config/config.js';
import { type Pool, type Queryable, withTransaction } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { newId } from '../platform/ids.js';
import {
  clearPassword,
  findAccount,
  findAccountByLogin,
  insertStaff,
  lockActiveAdmins,
  lockStaff,
  type StaffAccountRow,
  unitExists,
  updateStaff,
} from './staff-admin.repository.js';
import type { PasswordLink, StaffAccount } from './staff-admin.schema.js';

/** Where set-password links point and how long they last (PASSWORD_LINK_TTL_HOURS). */
export interface LinkOptions {
  baseUrl: string;
  ttlHours?: number;
}

/** Who makes a change, for the audit log: a signed-in administrator, or an operator at the command line. */
export interface Actor {
  actorId?: string | null;
  actorLogin?: string | null;
  ip?: string;
  userAgent?: string;
}
export const CLI_ACTOR: Actor = { actorId: null, actorLogin: 'operator:cli' };

const LOGIN = /^[a-z0-9._-]{3,64}$/;

/**
 * Where links point: PUBLIC_URL, or this server as it listens (the port it really got when PORT is 0).
 */
export function linkBaseUrl(
  config: Pick<Config, 'PUBLIC_URL' | 'HOST' | 'PORT'>,
  port = config.PORT,
): string {
  if (config.PUBLIC_URL) return config.PUBLIC_URL.replace(/\/+$/, '');
  return `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${port}`;
}

export function toAccount(r: StaffAccountRow): StaffAccount {
  return {
    id: r.id,
    login: r.login,
    displayName: r.display_name,
    role: r.role,
    unitId: r.unit_id,
    unitName: r.unit_name,
    active: r.active,
    totpEnrolled: r.totp_enrolled,
    passwordSet: r.password_set,
    locked: r.locked,
    lastSignInAt: r.last_sign_in_at?.toISOString() ?? null,
    createdAt: r.created_at.toISOString(),
  };
}

async function requireAccount(db: Queryable, id: string): Promise<StaffAccountRow> {
  const account = await findAccount(db, id);
  if (!account) throw new AppError('ACCOUNT_NOT_FOUND');
  return account;
}

/** The account with this id or login (the CLI names accounts by login). */
export async function resolveAccount(db: Queryable, idOrLogin: string): Promise<StaffAccountRow> {
  const account = /^[0-9a-f-]{36}$/i.test(idOrLogin)
    ? await findAccount(db, idOrLogin)
    : await findAccountByLogin(db, normaliseLogin(idOrLogin));
  if (!account) throw new AppError('ACCOUNT_NOT_FOUND');
  return account;
}

async function checkUnit(db: Queryable, unitId: number | null | undefined): Promise<void> {
  if (unitId != null && !(await unitExists(db, unitId)))
    throw new AppError('UNIT_NOT_FOUND', { field: 'unitId' });
}

const linkOf = (l: { url: string; expiresAt: Date | string }): PasswordLink => ({
  url: l.url,
  expiresAt: typeof l.expiresAt === 'string' ? l.expiresAt : l.expiresAt.toISOString(),
});

/** A new account, without a password: the person sets one through the returned one-time link. */
export async function createAccount(
  pool: Pool,
  actor: Actor,
  input: { login: string; displayName: string; role: StaffRole; unitId?: number | null },
  links: LinkOptions,
): Promise<{ account: StaffAccount; setPasswordLink: PasswordLink }> {
  const login = normaliseLogin(input.login);
  if (!LOGIN.test(login))
    throw new AppError('VALIDATION_FAILED', {
      field: 'login',
      message: 'A login is 3–64 letters, digits, ".", "_" or "-".',
    });
  const displayName = input.displayName.trim();
  if (!displayName) throw new AppError('VALIDATION_FAILED', { field: 'displayName' });
  return withTransaction(pool, async (trx) => {
    await checkUnit(trx, input.unitId);
    const id = newId();
    const unitId = input.unitId ?? null;
    if (!(await insertStaff(trx, { id, login, displayName, role: input.role, unitId })))
      throw new AppError('LOGIN_TAKEN', { field: 'login' });
    const link = await createPasswordLink(trx, {
      staffId: id,
      purpose: 'set',
      createdBy: actor.actorId ?? null,
      ...links,
    });
    await audit(trx, {
      ...actor,
      action: 'staff_created',
      targetKind: 'staff',
      targetId: id,
      detail: { login, role: input.role, unitId },
    });
    return { account: toAccount(await requireAccount(trx, id)), setPasswordLink: linkOf(link) };
  });
}

export interface AccountChange {
  displayName?: string;
  role?: StaffRole;
  unitId?: number | null;
  active?: boolean;
}

/**
 * Edits an account. A role change or a disable ends the account's sessions at once (its next request is 401); the
 * last active administrator can be neither disabled nor demoted.
 */
export async function updateAccount(
  pool: Pool,
  actor: Actor,
  id: string,
  change: AccountChange,
): Promise<StaffAccount> {
  const displayName = change.displayName?.trim();
  if (change.displayName !== undefined && !displayName)
    throw new AppError('VALIDATION_FAILED', { field: 'displayName' });
  return withTransaction(pool, async (trx) => {
    await checkUnit(trx, change.unitId);
    // Administrators first, then the account: every change takes the locks in that order.
    const admins = await lockActiveAdmins(trx);
    const before = await lockStaff(trx, id);
    if (!before) throw new AppError('ACCOUNT_NOT_FOUND');
    const roleChanged = change.role !== undefined && change.role !== before.role;
    const disabling = change.active === false && before.active;
    const enabling = change.active === true && !before.active;
    const losesAdmin = before.role === 'admin' && before.active && (disabling || roleChanged);
    if (losesAdmin && admins.filter((a) => a !== id).length === 0)
      throw new AppError('LAST_ADMIN', { field: disabling ? 'active' : 'role' });
    await updateStaff(trx, id, { ...change, ...(displayName ? { displayName } : {}) });
    if (roleChanged || disabling)
      await revokeSubjectSessions(trx, id, disabling ? 'disabled' : 'role_changed');
    const target = { targetKind: 'staff', targetId: id };
    if (roleChanged)
      await audit(trx, {
        ...actor,
        ...target,
        action: 'role_changed',
        detail: { from: before.role, to: change.role },
      });
    if (disabling) await audit(trx, { ...actor, ...target, action: 'staff_disabled' });
    if (enabling) await audit(trx, { ...actor, ...target, action: 'staff_enabled' });
    const other: Record<string, unknown> = {};
    if (displayName !== undefined && displayName !== before.display_name) other.displayName = displayName;
    if (change.unitId !== undefined && change.unitId !== before.unit_id)
      Object.assign(other, { unitId: change.unitId, previousUnitId: before.unit_id });
    if (Object.keys(other).length)
      await audit(trx, { ...actor, ...target, action: 'staff_updated', detail: other });
    return toAccount(await requireAccount(trx, id));
  });
}

/**
 * A password reset: the old password stops working and the account's sessions end now; the person sets a new one
 * through the returned link (which voids any earlier unused one).
 */
export async function resetPassword(
  pool: Pool,
  actor: Actor,
  id: string,
  links: LinkOptions,
  purpose: 'reset' | 'bootstrap' = 'reset',
): Promise<PasswordLink> {
  return withTransaction(pool, async (trx) => {
    if (!(await lockStaff(trx, id))) throw new AppError('ACCOUNT_NOT_FOUND');
    await clearPassword(trx, id);
    await revokeSubjectSessions(trx, id, 'password_reset');
    const link = await createPasswordLink(trx, {
      staffId: id,
      purpose,
      createdBy: actor.actorId ?? null,
      ...links,
    });
    await audit(trx, {
      ...actor,
      action: 'password_link_created',
      targetKind: 'staff',
      targetId: id,
      detail: { purpose },
    });
    return linkOf(link);
  });
}

/** Ends a sign-in lock-out (and the failure count) early. */
export async function unlockAccount(pool: Pool, actor: Actor, id: string): Promise<void> {
  await withTransaction(pool, async (trx) => {
    const account = await requireAccount(trx, id);
    await unlockSignIn(trx, account.login);
    await audit(trx, { ...actor, action: 'sign_in_unlocked', targetKind: 'staff', targetId: id });
  });
}

/** Removes two-factor sign-in (a lost phone); a role that requires it enrols again at the next sign-in. */
export async function resetAccountTotp(pool: Pool, actor: Actor, id: string): Promise<void> {
  await withTransaction(pool, async (trx) => {
    await requireAccount(trx, id);
    await resetTotp(trx, id);
    await revokeSubjectSessions(trx, id, 'totp_reset');
    await audit(trx, { ...actor, action: 'totp_reset', targetKind: 'staff', targetId: id });
  });
}

/**
 * A fresh installation's first administrator: when no active administrator exists, an `admin` account without a
 * password is created — once — and its one-time link returned for the start-up banner. Later starts (or other
 * processes starting at the same time) find the account and return null; `jarima staff reset-password admin` gives
 * a new link if that one is lost or expires.
 */
export async function bootstrapAdmin(pool: Pool, links: LinkOptions): Promise<PasswordLink | null> {
  return withTransaction(pool, async (trx) => {
    await trx.query(`select pg_advisory_xact_lock(hashtext('jarima:bootstrap-admin'))`);
    if ((await lockActiveAdmins(trx)).length > 0) return null;
    const id = newId();
    const created = await insertStaff(trx, {
      id,
      login: 'admin',
      displayName: 'Administrator',
      role: 'admin',
      unitId: null,
    });
    if (!created) return null;
    const link = await createPasswordLink(trx, {
      staffId: id,
      purpose: 'bootstrap',
      createdBy: null,
      ...links,
    });
    await audit(trx, {
      actorId: null,
      actorLogin: 'system:bootstrap',
      action: 'staff_created',
      targetKind: 'staff',
      targetId: id,
      detail: { login: 'admin', role: 'admin', bootstrap: true },
    });
    return linkOf(link);
  });
}
