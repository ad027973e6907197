import type { Queryable } from '../platform/db/pool.js';

export interface SessionRow {
  id: string;
  subject_id: string;
  role: string;
  created_at: Date;
  last_used_at: Date;
  expires_at: Date;
  ip: string | null;
  user_agent: string | null;
  revoked_at: Date | null;
}

export async function insertSession(
  db: Queryable,
  s: {
    id: string;
    subjectId: string;
    role: string;
    lifetimeSeconds: number;
    ip?: string;
    userAgent?: string;
  },
): Promise<Date> {
  const { rows } = await db.query<{ expires_at: Date }>(
    `insert into auth_sessions (id, subject_id, role, expires_at, ip, user_agent)
     values ($1, $2, $3, now() + make_interval(secs => $4), $5, $6) returning expires_at`,
    [s.id, s.subjectId, s.role, s.lifetimeSeconds, s.ip ?? null, s.userAgent?.slice(0, 300) ?? null],
  );
  return rows[0]!.expires_at;
}

export async function insertRefreshToken(db: Queryable, sessionId: string, tokenHash: Buffer): Promise<void> {
  await db.query('insert into refresh_tokens (token_hash, session_id) values ($1, $2)', [
    tokenHash,
    sessionId,
  ]);
}

/** The refresh token and its session, both locked: two refreshes with one token cannot both rotate it. */
export async function lockRefreshToken(
  trx: Queryable,
  tokenHash: Buffer,
): Promise<(SessionRow & { used_at: Date | null; expired: boolean }) | null> {
  const { rows } = await trx.query<SessionRow & { used_at: Date | null; expired: boolean }>(
    `select s.*, t.used_at, s.expires_at <= now() as expired
       from refresh_tokens t join auth_sessions s on s.id = t.session_id
      where t.token_hash = $1 for update`,
    [tokenHash],
  );
  return rows[0] ?? null;
}

export async function markRefreshUsed(
  trx: Queryable,
  tokenHash: Buffer,
  s: { id: string; ip?: string; userAgent?: string },
): Promise<void> {
  await trx.query('update refresh_tokens set used_at = now() where token_hash = $1', [tokenHash]);
  await trx.query(
    `update auth_sessions set last_used_at = now(), ip = coalesce($2, ip), user_agent = coalesce($3, user_agent)
      where id = $1`,
    [s.id, s.ip ?? null, s.userAgent?.slice(0, 300) ?? null],
  );
}

/** Whether a session still admits requests; marks it used at most once a minute (one statement either way). */
export async function sessionState(
  db: Queryable,
  id: string,
): Promise<{ live: boolean; subject_id: string; role: string } | null> {
  const { rows } = await db.query<{ live: boolean; subject_id: string; role: string }>(
    `with touch as (
       update auth_sessions set last_used_at = now()
        where id = $1 and revoked_at is null and last_used_at < now() - interval '1 minute')
     select revoked_at is null and expires_at > now() as live, subject_id, role from auth_sessions where id = $1`,
    [id],
  );
  return rows[0] ?? null;
}

/** Revokes sessions by id or by subject (whichever is given); returns the ids it ended. */
export async function revokeSessions(
  db: Queryable,
  by: { id?: string; subjectId?: string; onlySubject?: string; exceptId?: string },
  reason: string,
): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `update auth_sessions set revoked_at = now(), revoked_reason = $5
      where revoked_at is null
        and ($1::uuid is null or id = $1) and ($2::uuid is null or subject_id = $2)
        and ($3::uuid is null or subject_id = $3) and ($4::uuid is null or id <> $4)
      returning id`,
    [by.id ?? null, by.subjectId ?? null, by.onlySubject ?? null, by.exceptId ?? null, reason],
  );
  return rows.map((r) => r.id);
}

/** A subject's live sessions, newest first. */
export async function liveSessions(db: Queryable, subjectId: string): Promise<SessionRow[]> {
  const { rows } = await db.query<SessionRow>(
    `select * from auth_sessions where subject_id = $1 and revoked_at is null and expires_at > now()
      order by created_at desc limit 100`,
    [subjectId],
  );
  return rows;
}
