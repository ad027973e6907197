import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import {
  bearer,
  createTestApp,
  newPhone,
  signInCitizen,
  staffMember,
  type TestApp,
  until,
} from '../../test/helpers/app.js';
import { TEST_SERVER_ENV } from '../../test/helpers/env.js';
import { closeDeps, createDeps } from '../app/deps.js';
import { buildApp } from '../app/http.js';
import { loadConfig } from '../platform/config/config.js';
import type { Queryable } from '../platform/db/pool.js';
import { installErrorHandler } from '../platform/errors/http.js';
import type { App } from '../platform/http/types.js';
import { createLogger } from '../platform/logger.js';
import { installAuthentication } from './guard.js';
import { revokeSubjectSessions, SessionGuard } from './sessions.js';
import { issueToken } from './tokens.js';

// Two sign-ins of one phone in a row, as two devices would.
const t: TestApp = await createTestApp({ OTP_RESEND_SECONDS: '0' });

async function citizenTokens(phone = newPhone()) {
  await t.app.inject({ method: 'POST', url: '/v1/auth/otp', payload: { phone } });
  const code = /\b(\d{6})\b/.exec(t.deps.smsSimulator!.outbox(phone)[0]!.text)![1];
  const res = await t.app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { phone, code } });
  expect(res.statusCode).toBe(200);
  return res.json() as { token: string; refreshToken: string; sessionId: string; subjectId: string };
}

const me = (token: string) => t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) });
const refresh = (refreshToken: unknown) =>
  t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken } });

describe('sessions', () => {
  it('issues a short access token and a refresh token that rotates on use', async () => {
    const first = await citizenTokens();
    expect(
      Date.parse((first as unknown as { expiresAt: string }).expiresAt) - Date.now(),
    ).toBeLessThanOrEqual(900_000);
    const r = await refresh(first.refreshToken);
    expect(r.statusCode).toBe(200);
    const second = r.json();
    expect(second.sessionId).toBe(first.sessionId);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect((await me(second.token)).statusCode).toBe(200);
    // The first access token stays good until it expires: rotation is of the refresh token.
    expect((await me(first.token)).statusCode).toBe(200);
  });

  it('ends the whole session when a used refresh token comes back', async () => {
    const first = await citizenTokens();
    const second = (await refresh(first.refreshToken)).json();
    const reused = await refresh(first.refreshToken);
    expect([reused.statusCode, reused.json().code]).toEqual([401, 'REFRESH_REUSED']);
    // Both the thief's copy and the rightful newer tokens are dead now.
    const res = await me(second.token);
    expect([res.statusCode, res.json().code]).toEqual([401, 'SESSION_REVOKED']);
    expect((await refresh(second.refreshToken)).json().code).toBe('SESSION_REVOKED');
  });

  it('audits a reused staff refresh token', async () => {
    const staff = await staffMember(t, 'inspector');
    const tokens = await signInAgain(staff.id);
    expect((await refresh(tokens.refreshToken)).statusCode).toBe(200);
    expect((await refresh(tokens.refreshToken)).json().code).toBe('REFRESH_REUSED');
    const { rows } = await t.deps.pool.query(
      `select action, outcome, target_id from audit_log where actor_id = $1 and action = 'refresh_reused'`,
      [staff.id],
    );
    expect(rows).toEqual([{ action: 'refresh_reused', outcome: 'denied', target_id: tokens.sessionId }]);
  });

  it('audits a staff member’s sign-out and ending of another session, not a citizen’s', async () => {
    const staff = await staffMember(t, 'inspector');
    const other = await signInAgain(staff.id);
    const del = await t.app.inject({
      method: 'DELETE',
      url: `/v1/me/sessions/${other.sessionId}`,
      headers: bearer(staff.token),
    });
    expect(del.statusCode).toBe(204);
    const out = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/sign-out',
      headers: bearer(staff.token),
    });
    expect(out.statusCode).toBe(204);
    const citizen = await citizenTokens();
    await t.app.inject({ method: 'POST', url: '/v1/auth/sign-out', headers: bearer(citizen.token) });
    const { rows } = await t.deps.pool.query(
      `select actor_id, action, target_id from audit_log
        where action in ('sign_out', 'session_revoked') and actor_id = any($1) order by id`,
      [[staff.id, citizen.subjectId]],
    );
    expect(rows.map((r) => [r.actor_id, r.action, r.target_id === other.sessionId])).toEqual([
      [staff.id, 'session_revoked', true],
      [staff.id, 'sign_out', false],
    ]);
  });

  it('signs out: the access token and the refresh token stop working', async () => {
    const s = await citizenTokens();
    const out = await t.app.inject({ method: 'POST', url: '/v1/auth/sign-out', headers: bearer(s.token) });
    expect(out.statusCode).toBe(204);
    const res = await me(s.token);
    expect([res.statusCode, res.json().code]).toEqual([401, 'SESSION_REVOKED']);
    expect((await refresh(s.refreshToken)).json().code).toBe('SESSION_REVOKED');
  });

  it('lists one’s own sessions and ends another device’s', async () => {
    const phone = newPhone();
    const phoneA = await citizenTokens(phone);
    const phoneB = await citizenTokens(phone);
    expect(phoneB.subjectId).toBe(phoneA.subjectId);
    const list = await t.app.inject({ method: 'GET', url: '/v1/me/sessions', headers: bearer(phoneA.token) });
    expect(list.statusCode).toBe(200);
    const items = list.json().items as { id: string; current: boolean }[];
    expect(items.map((i) => i.id).sort()).toEqual([phoneA.sessionId, phoneB.sessionId].sort());
    expect(items.find((i) => i.current)?.id).toBe(phoneA.sessionId);

    const other = await signInCitizen(t);
    const foreign = await t.app.inject({
      method: 'DELETE',
      url: `/v1/me/sessions/${phoneB.sessionId}`,
      headers: bearer(other.token),
    });
    expect([foreign.statusCode, foreign.json().code]).toEqual([404, 'SESSION_NOT_FOUND']);
    expect((await me(phoneB.token)).statusCode).toBe(200);

    const del = await t.app.inject({
      method: 'DELETE',
      url: `/v1/me/sessions/${phoneB.sessionId}`,
      headers: bearer(phoneA.token),
    });
    expect(del.statusCode).toBe(204);
    expect((await me(phoneB.token)).json().code).toBe('SESSION_REVOKED');
    expect((await me(phoneA.token)).statusCode).toBe(200);
    const again = await t.app.inject({
      method: 'DELETE',
      url: `/v1/me/sessions/${phoneB.sessionId}`,
      headers: bearer(phoneA.token),
    });
    expect(again.statusCode).toBe(404);
  });

  it('ends a staff member’s sessions at once when they are revoked', async () => {
    const staff = await staffMember(t, 'inspector');
    expect((await me(staff.token)).statusCode).toBe(200);
    expect(await revokeSubjectSessions(t.deps.pool, staff.id, 'disabled')).toBeGreaterThan(0);
    const res = await me(staff.token);
    expect([res.statusCode, res.json().code]).toEqual([401, 'SESSION_REVOKED']);
  });

  it('tells an expired token from a bad one, and refuses a token of no session', async () => {
    const s = await citizenTokens();
    const key = t.deps.keys.token;
    const expired = issueToken(key, { id: s.subjectId, role: 'citizen', sid: s.sessionId }, -1);
    expect((await me(expired)).json().code).toBe('TOKEN_EXPIRED');
    const unknown = issueToken(key, { id: s.subjectId, role: 'citizen', sid: randomUUID() }, 60);
    expect((await me(unknown)).json().code).toBe('SESSION_REVOKED');
    // A token naming someone else's session is refused too.
    const borrowed = issueToken(key, { id: randomUUID(), role: 'citizen', sid: s.sessionId }, 60);
    expect((await me(borrowed)).json().code).toBe('SESSION_REVOKED');
    // A signed token whose session id is no uuid names no session at all.
    const noSid = issueToken(key, { id: s.subjectId, role: 'citizen', sid: 'x' }, 60);
    expect((await me(noSid)).json().code).toBe('TOKEN_INVALID');
  });

  it('refuses a refresh after the session’s absolute end, and malformed bodies by field', async () => {
    const s = await citizenTokens();
    await t.deps.pool.query(
      `update auth_sessions set expires_at = now() - interval '1 second' where id = $1`,
      [s.sessionId],
    );
    expect((await refresh(s.refreshToken)).json().code).toBe('REFRESH_INVALID');
    expect((await refresh(`${randomUUID()}.${randomBytes(32).toString('base64url')}`)).json().code).toBe(
      'REFRESH_INVALID',
    );
    for (const bad of ['short', 42, null, `${s.refreshToken}x`]) {
      const res = await refresh(bad);
      expect(res.statusCode, String(bad)).toBe(400);
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'refreshToken' });
    }
    const extra = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: { refreshToken: s.refreshToken, more: 1 },
    });
    expect(extra.statusCode).toBe(400);
    const badId = await t.app.inject({
      method: 'DELETE',
      url: '/v1/me/sessions/not-a-uuid',
      headers: bearer((await citizenTokens()).token),
    });
    expect([badId.statusCode, badId.json().field]).toEqual([400, 'id']);
  });

  it('ends a session in every API process, not only the one that revoked it', async () => {
    const config = loadConfig({
      JARIMA_DATA_DIR: path.join(os.tmpdir(), 'jarima-sessions-b'),
      LOG_LEVEL: 'silent',
      JARIMA_WORKERS: 'none',
      ...TEST_SERVER_ENV,
    });
    const bDeps = await createDeps(config, {
      databaseUrl: t.db.url,
      secret: randomBytes(32).toString('hex'),
      logger: createLogger('silent', false),
    });
    const b = await buildApp(bDeps, { workersRunning: null });
    try {
      const s = await citizenTokens();
      // The same session, as process B signs its tokens.
      const onB = issueToken(bDeps.keys.token, { id: s.subjectId, role: 'citizen', sid: s.sessionId }, 600);
      const meOnB = () => b.inject({ method: 'GET', url: '/v1/me/sessions', headers: bearer(onB) });
      // B now remembers the citizen's session as live…
      expect((await meOnB()).statusCode).toBe(200);
      await t.app.inject({ method: 'POST', url: '/v1/auth/sign-out', headers: bearer(s.token) });
      // …and forgets it when A's revocation is announced, well before its 30 s memory would lapse.
      await until('B to refuse the revoked session', async () => (await meOnB()).statusCode === 401, 5000);
      expect((await meOnB()).json().code).toBe('SESSION_REVOKED');
    } finally {
      await b.close();
      await closeDeps(bDeps);
    }
  });
});

describe('the session check when the database fails', () => {
  it('answers 503, never 500, for a session it cannot read', async () => {
    const key = randomBytes(32);
    const timeout = Object.assign(new Error('canceling statement due to statement timeout'), {
      code: '57014',
    });
    const guard = new SessionGuard({ query: async () => Promise.reject(timeout) } as unknown as Queryable, {
      on: () => () => {},
      onLost: () => () => {},
    });
    const app = Fastify({ logger: false }) as unknown as App;
    installErrorHandler(app);
    installAuthentication(app, key, guard);
    app.get('/probe', async () => ({ ok: true }));
    try {
      const token = issueToken(key, { id: randomUUID(), role: 'inspector', sid: randomUUID() }, 60);
      const res = await app.inject({ method: 'GET', url: '/probe', headers: bearer(token) });
      expect([res.statusCode, res.json().code]).toEqual([503, 'SERVICE_UNAVAILABLE']);
    } finally {
      guard.close();
      await app.close();
    }
  });
});

/** A second sign-in of an existing staff member, straight from the session service (as a sign-in route would). */
async function signInAgain(staffId: string) {
  const { openSession } = await import('./sessions.js');
  return openSession(
    t.deps.pool,
    { keys: t.deps.keys, config: t.deps.config },
    { subjectId: staffId, role: 'inspector' },
    { ip: '127.0.0.1' },
  );
}
