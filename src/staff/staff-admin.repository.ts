import type { StaffRole } from '../auth/tokens.js';
import type { Queryable } from '../platform/db/pool.js';

export interface StaffAccountRow {
  id: string;
  login: string;
  display_name: string;
  role: StaffRole;
  unit_id: number | null;
  unit_name: string | null;
  active: boolean;
  totp_enrolled: boolean;
  password_set: boolean;
  locked: boolean;
  last_sign_in_at: Date | null;
  created_at: Date;
}

const ACCOUNT_SELECT = `
  select s.id, s.login, s.display_name, s.role, s.unit_id, u.name as unit_name, s.active,
         s.totp_enrolled_at is not null as totp_enrolled, s.password_hash is not null as password_set,
         coalesce(f.locked_until > now(), false) as locked, s.last_sign_in_at, s.created_at
    from staff s
    left join units u on u.id = s.unit_id
    left join sign_in_failures f on f.login = s.login`;

export interface StaffFilter {
  role?: StaffRole;
  unitId?: number;
  active?: boolean;
  q?: string;
}

/** Staff accounts by login (an agency has hundreds, not millions: no pagination). */
export async function listStaff(db: Queryable, f: StaffFilter): Promise<StaffAccountRow[]> {
  const { rows } = await db.query<StaffAccountRow>(
    `${ACCOUNT_SELECT}
      where ($1::text is null or s.role = $1)
        and ($2::int is null or s.unit_id = $2)
        and ($3::boolean is null or s.active = $3)
        and ($4::text is null or s.login ilike $4 escape '\\' or s.display_name ilike $4 escape '\\')
      order by s.login limit 5000`,
    [
      f.role ?? null,
      f.unitId ?? null,
      f.active ?? null,
      f.q === undefined ? null : `%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`,
    ],
  );
  return rows;
}

export async function findAccount(db: Queryable, id: string): Promise<StaffAccountRow | null> {
  const { rows } = await db.query<StaffAccountRow>(`${ACCOUNT_SELECT} where s.id = $1`, [id]);
  return rows[0] ?? null;
}

export async function findAccountByLogin(db: Queryable, login: string): Promise<StaffAccountRow | null> {
  const { rows } = await db.query<StaffAccountRow>(`${ACCOUNT_SELECT} where s.login = $1`, [login]);
  return rows[0] ?? null;
}

/** A new account without a password (its set-password link sets one); null when the login is taken. */
export async function insertStaff(
  db: Queryable,
  s: { id: string; login: string; displayName: string; role: StaffRole; unitId: number | null },
): Promise<boolean> {
  const { rowCount } = await db.query(
    `insert into staff (id, login, role, display_name, unit_id) values ($1, $2, $3, $4, $5)
     on conflict (login) do nothing`,
    [s.id, s.login, s.role, s.displayName, s.unitId],
  );
  return rowCount === 1;
}

/** The account row, locked for a change. */
export async function lockStaff(
  trx: Queryable,
  id: string,
): Promise<{
  id: string;
  login: string;
  role: StaffRole;
  display_name: string;
  unit_id: number | null;
  active: boolean;
} | null> {
  const { rows } = await trx.query(
    'select id, login, role, display_name, unit_id, active from staff where id = $1 for update',
    [id],
  );
  return rows[0] ?? null;
}

/**
 * Locks every active administrator's row and returns their ids: two administrators demoting each other at once
 * queue on these locks, so one of them always remains.
 */
export async function lockActiveAdmins(trx: Queryable): Promise<string[]> {
  const { rows } = await trx.query<{ id: string }>(
    `select id from staff where role = 'admin' and active order by id for update`,
  );
  return rows.map((r) => r.id);
}

export async function updateStaff(
  trx: Queryable,
  id: string,
  p: { displayName?: string; role?: StaffRole; unitId?: number | null; active?: boolean },
): Promise<void> {
  await trx.query(
    `update staff set
        display_name = coalesce($2, display_name),
        role = coalesce($3, role),
        unit_id = case when $4::boolean then $5::int else unit_id end,
        active = coalesce($6, active),
        updated_at = now()
      where id = $1`,
    [id, p.displayName ?? null, p.role ?? null, p.unitId !== undefined, p.unitId ?? null, p.active ?? null],
  );
}

/** A reset: the old password stops working at once; the new one comes through the set-password link. */
export async function clearPassword(trx: Queryable, id: string): Promise<void> {
  await trx.query('update staff set password_hash = null, updated_at = now() where id = $1', [id]);
}

export async function unitExists(db: Queryable, unitId: number): Promise<boolean> {
  const { rows } = await db.query('select 1 from units where id = $1', [unitId]);
  return rows.length > 0;
}

export async function unitIdByName(db: Queryable, name: string): Promise<number | null> {
  const { rows } = await db.query<{ id: number }>('select id from units where lower(name) = lower($1)', [
    name,
  ]);
  return rows[0]?.id ?? null;
}

export async function hasActiveAdmin(db: Queryable): Promise<boolean> {
  const { rows } = await db.query(`select 1 from staff where role = 'admin' and active limit 1`);
  return rows.length > 0;
}
