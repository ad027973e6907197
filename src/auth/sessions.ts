import { createHash, randomBytes } from 'node:crypto';
import type { Config } from '../platform/config/config.js';
import type { PgListener } from '../platform/db/listener.js';
import { type Pool, type Queryable, withTransaction } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { newId } from '../platform/ids.js';
import type { Keys } from '../platform/security/keys.js';
import type { TokenResponse } from './auth.schema.js';
import {
  insertRefreshToken,
  insertSession,
  lockRefreshToken,
  markRefreshUsed,
  revokeSessions,
  sessionState,
} from './sessions.repository.js';
import { issueToken, type Principal, type Role } from './tokens.js';

/**
 * Sessions for staff and citizens. A sign-in opens a session (a row of auth_sessions) and returns a short-lived
 * access token naming it plus a refresh token. Each refresh rotates the refresh token; a used one presented again
 * means it was copied, so the whole session (the token family) ends. Revoking a session — sign-out, "my sessions",
 * an administrator disabling an account or changing its role — makes its access tokens fail on the next request.
 */
export interface SessionDeps {
  keys: Keys;
  config: Pick<Config, 'ACCESS_TOKEN_TTL_SECONDS' | 'SESSION_TTL_HOURS_STAFF' | 'SESSION_TTL_DAYS_CITIZEN'>;
}

export interface SessionContext {
  ip?: string;
  userAgent?: string;
}

/** NOTIFY channel carrying the ids of revoked sessions to every process (delivered at commit). */
export const SESSIONS_REVOKED_CHANNEL = 'jarima_sessions_revoked';

const sha256 = (s: string) => createHash('sha256').update(s).digest();

function lifetimeSeconds(deps: SessionDeps, role: Role): number {
  return role === 'citizen'
    ? deps.config.SESSION_TTL_DAYS_CITIZEN * 86_400
    : deps.config.SESSION_TTL_HOURS_STAFF * 3600;
}

/** Refresh tokens are `<session id>.<32 random bytes>`; only their SHA-256 is stored. */
function newRefreshToken(sessionId: string): { token: string; hash: Buffer } {
  const token = `${sessionId}.${randomBytes(32).toString('base64url')}`;
  return { token, hash: sha256(token) };
}

function tokenResponse(
  deps: SessionDeps,
  s: { id: string; subjectId: string; role: Role; expiresAt: Date },
  refreshToken: string,
): TokenResponse {
  const now = Date.now();
  // An access token never outlives its session.
  const ttl = Math.max(
    1,
    Math.min(deps.config.ACCESS_TOKEN_TTL_SECONDS, Math.floor((s.expiresAt.getTime() - now) / 1000)),
  );
  return {
    token: issueToken(deps.keys.token, { id: s.subjectId, role: s.role, sid: s.id }, ttl, now),
    tokenType: 'Bearer',
    expiresAt: new Date(now + ttl * 1000).toISOString(),
    refreshToken,
    refreshExpiresAt: s.expiresAt.toISOString(),
    sessionId: s.id,
    role: s.role,
    subjectId: s.subjectId,
  };
}

/** Opens a session for someone who has just proved who they are; returns their first tokens. */
export async function openSession(
  db: Queryable,
  deps: SessionDeps,
  who: { subjectId: string; role: Role },
  ctx: SessionContext,
): Promise<TokenResponse> {
  const id = newId();
  const expiresAt = await insertSession(db, {
    id,
    subjectId: who.subjectId,
    role: who.role,
    lifetimeSeconds: lifetimeSeconds(deps, who.role),
    ip: ctx.ip,
    userAgent: ctx.userAgent,
  });
  const refresh = newRefreshToken(id);
  await insertRefreshToken(db, id, refresh.hash);
  return tokenResponse(deps, { id, subjectId: who.subjectId, role: who.role, expiresAt }, refresh.token);
}

export type RefreshOutcome =
  | { ok: true; tokens: TokenResponse }
  | { ok: false; code: 'REFRESH_INVALID' | 'SESSION_REVOKED' }
  | { ok: false; code: 'REFRESH_REUSED'; session: { id: string; subjectId: string; role: string } };

/**
 * Exchanges a refresh token for new tokens, rotating it, in one transaction. A reused token's session is revoked
 * (and committed) before the caller answers 401, so the copy and the original both stop working.
 */
export async function refreshSession(
  pool: Pool,
  deps: SessionDeps,
  refreshToken: string,
  ctx: SessionContext,
): Promise<RefreshOutcome> {
  const hash = sha256(refreshToken);
  return withTransaction(pool, async (trx): Promise<RefreshOutcome> => {
    const row = await lockRefreshToken(trx, hash);
    if (!row || row.expired) return { ok: false, code: 'REFRESH_INVALID' };
    if (row.revoked_at) return { ok: false, code: 'SESSION_REVOKED' };
    if (row.used_at) {
      await revokeSession(trx, row.id, 'refresh_reused');
      return {
        ok: false,
        code: 'REFRESH_REUSED',
        session: { id: row.id, subjectId: row.subject_id, role: row.role },
      };
    }
    await markRefreshUsed(trx, hash, { id: row.id, ...ctx });
    const next = newRefreshToken(row.id);
    await insertRefreshToken(trx, row.id, next.hash);
    return {
      ok: true,
      tokens: tokenResponse(
        deps,
        { id: row.id, subjectId: row.subject_id, role: row.role as Role, expiresAt: row.expires_at },
        next.token,
      ),
    };
  });
}

async function announce(db: Queryable, ids: string[]): Promise<void> {
  // Payloads stop at 8,000 bytes: 200 ids of 37 characters each fit.
  for (let i = 0; i < ids.length; i += 200)
    await db.query('select pg_notify($1, $2)', [SESSIONS_REVOKED_CHANNEL, ids.slice(i, i + 200).join(',')]);
}

/** Ends one session. Pass the caller's transaction where there is one: every process hears of it at commit. */
export async function revokeSession(db: Queryable, sessionId: string, reason: string): Promise<boolean> {
  const ids = await revokeSessions(db, { id: sessionId }, reason);
  await announce(db, ids);
  return ids.length > 0;
}

/** Ends every live session of a staff member or citizen (disabled, role changed, password reset …). */
export async function revokeSubjectSessions(
  db: Queryable,
  subjectId: string,
  reason: string,
): Promise<number> {
  const ids = await revokeSessions(db, { subjectId }, reason);
  await announce(db, ids);
  return ids.length;
}

/** Ends a subject's own session `sessionId` (404 when it is someone else's or already over). */
export async function revokeOwnSession(
  db: Queryable,
  subjectId: string,
  sessionId: string,
  reason: string,
): Promise<void> {
  const ids = await revokeSessions(db, { id: sessionId, onlySubject: subjectId }, reason);
  if (!ids.length) throw new AppError('SESSION_NOT_FOUND');
  await announce(db, ids);
}

/** Ends all of a subject's sessions but the one in use (a password change). */
export async function revokeOtherSessions(
  db: Queryable,
  subjectId: string,
  keepSessionId: string,
  reason: string,
): Promise<number> {
  const ids = await revokeSessions(db, { subjectId, exceptId: keepSessionId }, reason);
  await announce(db, ids);
  return ids.length;
}

/**
 * Opens sessions directly, for tools that act as many people at once (benchmarks, tests of other modules) — never
 * for a route: routes open sessions only after a sign-in. One statement however many; returns their access tokens.
 */
export async function issueSessionTokens(
  db: Queryable,
  tokenKey: Buffer,
  principals: { id: string; role: Role }[],
  ttlSeconds: number,
): Promise<string[]> {
  const sids = principals.map(() => newId());
  await db.query(
    `insert into auth_sessions (id, subject_id, role, expires_at)
     select sid, subject, role, now() + make_interval(secs => $4)
       from unnest($1::uuid[], $2::uuid[], $3::text[]) as t (sid, subject, role)`,
    [sids, principals.map((p) => p.id), principals.map((p) => p.role), ttlSeconds],
  );
  return principals.map((p, i) => issueToken(tokenKey, { ...p, sid: sids[i]! }, ttlSeconds));
}

const CITIZEN_CACHE_MS = 30_000;
const CITIZEN_CACHE_MAX = 200_000;

/**
 * Checks on each request that the token's session is live. A staff session is read from the database every time
 * (one primary-key lookup), so disabling an account or changing its role takes effect on the very next request,
 * whichever process serves it. A citizen session is remembered for 30 s: citizens make the bulk of requests
 * (status polls are served from cache and must keep working through a short database outage), and their
 * revocations reach every process at commit by NOTIFY, which drops the entry; a lost LISTEN connection drops all.
 */
export class SessionGuard {
  private readonly citizens = new Map<string, { live: boolean; until: number }>();
  private readonly unsubscribe: Array<() => void>;

  constructor(
    private readonly db: Queryable,
    listener: Pick<PgListener, 'on' | 'onLost'>,
  ) {
    this.unsubscribe = [
      listener.on(SESSIONS_REVOKED_CHANNEL, (payload) => {
        for (const id of payload.split(',')) this.citizens.delete(id);
      }),
      listener.onLost(() => this.citizens.clear()),
    ];
  }

  /** Throws SESSION_REVOKED unless the principal's session admits requests. */
  async check(p: Principal): Promise<void> {
    if (p.role === 'citizen') {
      const hit = this.citizens.get(p.sid);
      if (hit && hit.until > Date.now()) {
        if (!hit.live) throw new AppError('SESSION_REVOKED');
        return;
      }
    }
    const state = await sessionState(this.db, p.sid);
    const live = !!state && state.live && state.subject_id === p.id && state.role === p.role;
    if (p.role === 'citizen') {
      if (this.citizens.size >= CITIZEN_CACHE_MAX) this.citizens.delete(this.citizens.keys().next().value!);
      this.citizens.set(p.sid, { live, until: Date.now() + CITIZEN_CACHE_MS });
    }
    if (!live) throw new AppError('SESSION_REVOKED');
  }

  /** Forgets a session this process has just revoked (the NOTIFY would follow within milliseconds). */
  forget(sessionId: string): void {
    this.citizens.delete(sessionId);
  }

  close(): void {
    for (const u of this.unsubscribe) u();
  }
}
