import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import type { Queryable } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { newId } from '../platform/ids.js';
import type { StaffRole } from './tokens.js';

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

// Verified against when the login does not exist, so a wrong login costs as long as a wrong password.
let dummyHash: Promise<string> | undefined;

export async function authenticateStaff(
  db: Queryable,
  login: string,
  password: string,
): Promise<StaffMember> {
  const { rows } = await db.query<{
    id: string;
    login: string;
    role: StaffRole;
    display_name: string;
    password_hash: string;
  }>('select id, login, role, display_name, password_hash from staff where login = $1 and active', [
    login.toLowerCase(),
  ]);
  const row = rows[0];
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  const ok = await verify(row?.password_hash ?? (await dummyHash), password);
  if (!row || !ok) throw new AppError('LOGIN_INVALID');
  return { id: row.id, login: row.login, role: row.role, displayName: row.display_name };
}

export async function createStaff(
  db: Queryable,
  member: { login: string; role: StaffRole; displayName: string; password: string },
): Promise<StaffMember | null> {
  const { rows } = await db.query<{ id: string }>(
    `insert into staff (id, login, role, display_name, password_hash) values ($1, $2, $3, $4, $5)
     on conflict (login) do nothing returning id`,
    [
      newId(),
      member.login.toLowerCase(),
      member.role,
      member.displayName,
      await hashPassword(member.password),
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
