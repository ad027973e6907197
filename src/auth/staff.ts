import { createHash, randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import type { Queryable } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { newId } from '../platform/ids.js';
import type { StaffRole } from './tokens.js';

/** Logins are compared and kept trimmed and lower-case: `Inspector.One` and `inspector.one` are one account. */
export const normaliseLogin = (login: string) => login.trim().toLowerCase();

// OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane). 2 = Algorithm.Argon2id (a const enum we cannot import).
const ARGON2 = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2);
}

export interface StaffMember {
  id: string;
  login: string;
  role: StaffRole;
  displayName: string;
}

// Verified against when there is no password to check, so every refusal costs one argon2id verification.
let dummyHash: Promise<string> | undefined;

export type PasswordRefusal = 'unknown_login' | 'wrong_password' | 'disabled' | 'no_password';

export interface SignInAccount extends StaffMember {
  totpEnrolled: boolean;
  /** Changes whenever the password does (null: none set): a sign-in challenge names the password it followed. */
  passwordStamp: string | null;
}

const stampOf = (hash: string | null) =>
  hash ? createHash('sha256').update(hash).digest().subarray(0, 12).toString('base64url') : null;

/**
 * Checks a login and password. Unknown login, no password set yet, disabled account and wrong password all cost the
 * same one argon2id verification, and the caller answers them alike; the reason is for the audit log only.
 */
export async function checkStaffPassword(
  db: Queryable,
  login: string,
  password: string,
): Promise<{ ok: true; member: SignInAccount } | { ok: false; reason: PasswordRefusal; staffId?: string }> {
  const { rows } = await db.query<{
    id: string;
    login: string;
    role: StaffRole;
    display_name: string;
    password_hash: string | null;
    active: boolean;
    totp_enrolled_at: Date | null;
  }>(
    `select id, login, role, display_name, password_hash, active, totp_enrolled_at
       from staff where login = $1`,
    [normaliseLogin(login)],
  );
  const row = rows[0];
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  const hashed = row?.password_hash && row.active ? row.password_hash : await dummyHash;
  const ok = await verify(hashed, password).catch(() => false);
  if (!row) return { ok: false, reason: 'unknown_login' };
  if (!row.active) return { ok: false, reason: 'disabled', staffId: row.id };
  if (!row.password_hash) return { ok: false, reason: 'no_password', staffId: row.id };
  if (!ok) return { ok: false, reason: 'wrong_password', staffId: row.id };
  return {
    ok: true,
    member: {
      id: row.id,
      login: row.login,
      role: row.role,
      displayName: row.display_name,
      totpEnrolled: Boolean(row.totp_enrolled_at),
      passwordStamp: stampOf(row.password_hash),
    },
  };
}

/** Checks a login and password; LOGIN_INVALID for any refusal. */
export async function authenticateStaff(
  db: Queryable,
  login: string,
  password: string,
): Promise<StaffMember> {
  const result = await checkStaffPassword(db, login, password);
  if (!result.ok) throw new AppError('LOGIN_INVALID');
  return result.member;
}

/** Whether `password` is the staff member's current one (argon2id). */
export async function staffPasswordMatches(
  db: Queryable,
  staffId: string,
  password: string,
): Promise<boolean> {
  const { rows } = await db.query<{ password_hash: string | null }>(
    'select password_hash from staff where id = $1 and active',
    [staffId],
  );
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  const hashed = rows[0]?.password_hash;
  const ok = await verify(hashed ?? (await dummyHash), password).catch(() => false);
  return Boolean(hashed) && ok;
}

/** Sets a new password hash (already checked against the policy). */
export async function setStaffPasswordHash(
  db: Queryable,
  staffId: string,
  passwordHash: string,
): Promise<void> {
  await db.query(
    `update staff set password_hash = $2, password_changed_at = now(), updated_at = now() where id = $1`,
    [staffId, passwordHash],
  );
}

/** Creates an account (without a password when none is given: it is set through a link). Null if the login is taken. */
export async function createStaff(
  db: Queryable,
  member: { login: string; role: StaffRole; displayName: string; password?: string },
): Promise<StaffMember | null> {
  const { rows } = await db.query<{ id: string }>(
    `insert into staff (id, login, role, display_name, password_hash) values ($1, $2, $3, $4, $5)
     on conflict (login) do nothing returning id`,
    [
      newId(),
      member.login.toLowerCase(),
      member.role,
      member.displayName,
      member.password === undefined ? null : await hashPassword(member.password),
    ],
  );
  return rows[0]
    ? {
        id: rows[0].id,
        login: member.login.toLowerCase(),
        role: member.role,
        displayName: member.displayName,
      }
    : null;
}

export interface DemoAccount {
  login: string;
  password: string;
  role: StaffRole;
}

/**
 * Creates the demo staff accounts that do not exist yet, each with a fresh random password, and returns those it
 * created (the only moment a password is known in clear).
 */
export async function seedDemoStaff(db: Queryable): Promise<DemoAccount[]> {
  const wanted: { login: string; role: StaffRole; displayName: string }[] = [
    { login: 'inspector', role: 'inspector', displayName: 'Demo Inspector' },
    { login: 'supervisor', role: 'supervisor', displayName: 'Demo Supervisor' },
    { login: 'admin', role: 'admin', displayName: 'Demo Administrator' },
  ];
  const created: DemoAccount[] = [];
  for (const w of wanted) {
    const password = randomBytes(9).toString('base64url');
    if (await createStaff(db, { ...w, password })) created.push({ login: w.login, password, role: w.role });
  }
  return created;
}

/** A staff account as the second sign-in step needs it; null when there is none or it is disabled. */
export async function activeSignInAccount(db: Queryable, staffId: string): Promise<SignInAccount | null> {
  const { rows } = await db.query<{
    id: string;
    login: string;
    role: StaffRole;
    display_name: string;
    totp_enrolled_at: Date | null;
    password_hash: string | null;
  }>(
    'select id, login, role, display_name, totp_enrolled_at, password_hash from staff where id = $1 and active',
    [staffId],
  );
  const r = rows[0];
  return r
    ? {
        id: r.id,
        login: r.login,
        role: r.role,
        displayName: r.display_name,
        totpEnrolled: Boolean(r.totp_enrolled_at),
        passwordStamp: stampOf(r.password_hash),
      }
    : null;
}

/** The id of the account a login names, active or not (null: no such login). */
export async function staffIdByLogin(db: Queryable, login: string): Promise<string | null> {
  const { rows } = await db.query<{ id: string }>('select id from staff where login = $1', [
    normaliseLogin(login),
  ]);
  return rows[0]?.id ?? null;
}

export async function markSignedIn(db: Queryable, staffId: string): Promise<void> {
  await db.query('update staff set last_sign_in_at = now() where id = $1', [staffId]);
}
