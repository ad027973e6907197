import { randomBytes } from 'node:crypto';
import { generate } from 'otplib';
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, signInStaff, type TestApp } from '../../test/helpers/app.js';
import { loadConfig } from '../platform/config/config.js';
import { createPasswordLink } from './password-links.js';
import { readChallenge } from './sign-in-challenge.js';
import { signInDelayMs, unlockSignIn } from './sign-in-throttle.js';
import { createStaff } from './staff.js';
import { auditLoginHash } from './staff-sign-in.service.js';
import type { StaffRole } from './tokens.js';
import { resetTotp, totpRequiredRoles } from './totp.js';

let t: TestApp;
beforeAll(async () => {
  // The progressive delay is capped at a few milliseconds here; its schedule is checked on its own below.
  t = await createTestApp({ SIGN_IN_MAX_DELAY_MS: '5' });
});

const post = (url: string, payload: object, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url, payload, headers });
const login = (l: string, password: string) => post('/v1/auth/login', { login: l, password });
const withoutRequestId = (body: Record<string, unknown>) => ({ ...body, requestId: undefined });

async function account(role: StaffRole, password: string | null = randomBytes(12).toString('hex')) {
  const l = `${role}-${randomBytes(4).toString('hex')}`;
  const created = await createStaff(t.deps.pool, {
    login: l,
    role,
    displayName: `Test ${role}`,
    ...(password === null ? {} : { password }),
  });
  return { login: l, password: password ?? '', id: created!.id };
}

/** A code for `offsetSteps` steps from now; waits first when a step boundary is under 3 s away. */
async function codeAt(secret: string, offsetSteps = 0, at?: number): Promise<string> {
  return generate({ secret, epoch: Math.floor((at ?? Date.now()) / 1000) + offsetSteps * 30 });
}
async function awayFromStepEdge(): Promise<number> {
  const into = (Date.now() / 1000) % 30;
  if (into > 27 || into < 1)
    await new Promise((r) => setTimeout(r, (31 - into) * 1000 - (into < 1 ? 30_000 : 0)));
  return Date.now();
}

async function auditRows(action: string, targetId?: string) {
  const { rows } = await t.deps.pool.query(
    `select actor_id, outcome, detail from audit_log where action = $1 and ($2::text is null or target_id = $2)
      order by id`,
    [action, targetId ?? null],
  );
  return rows;
}

describe('password step', () => {
  it('signs a role without two-factor requirement straight in, with a session', async () => {
    const a = await account('inspector');
    const res = await login(a.login.toUpperCase(), a.password);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      status: 'signed_in',
      tokenType: 'Bearer',
      role: 'inspector',
      subjectId: a.id,
    });
    expect(body.refreshToken).toEqual(expect.any(String));
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(body.token) });
    expect(me.json()).toMatchObject({ id: a.id, login: a.login });
    expect(await auditRows('sign_in', a.id)).toMatchObject([
      { actor_id: a.id, detail: { method: 'password' } },
    ]);
  });

  it('answers unknown login, wrong password, disabled account and no password yet alike', async () => {
    const known = await account('inspector');
    const disabled = await account('inspector');
    await t.deps.pool.query('update staff set active = false where id = $1', [disabled.id]);
    const unset = await account('inspector', null);
    const answers = [
      await login(`nobody-${randomBytes(3).toString('hex')}`, known.password),
      await login(known.login, `${known.password}x`),
      await login(disabled.login, disabled.password),
      await login(unset.login, 'anything at all'),
    ];
    for (const res of answers) {
      expect(res.statusCode).toBe(401);
      expect(withoutRequestId(res.json())).toEqual(withoutRequestId(answers[0]!.json()));
      expect(Object.keys(res.headers).sort()).toEqual(Object.keys(answers[0]!.headers).sort());
    }
    expect(answers[0]!.json().code).toBe('LOGIN_INVALID');
    const reasons = (await auditRows('sign_in_failed')).map((r) => r.detail.reason);
    expect(reasons).toEqual(
      expect.arrayContaining(['unknown_login', 'wrong_password', 'disabled', 'no_password']),
    );
  });

  it.each([
    [{ login: 'a' }, 'password'],
    [{ password: 'x' }, 'login'],
    [{ login: '', password: 'x' }, 'login'],
    [{ login: 'a\nb', password: 'x' }, 'login'],
    [{ login: 'a', password: 'x', extra: 1 }, 'extra'],
    [{ login: 'a', password: 'x'.repeat(1025) }, 'password'],
  ])('refuses the body %j with 400 on %s', async (payload, field) => {
    const res = await post('/v1/auth/login', payload);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', field });
  });
});

describe('throttling', () => {
  it('waits 1, 2, 4 … s after the free failures, at most 30 s (and at most the configured cap)', () => {
    const config = { SIGN_IN_FREE_FAILURES: 3, SIGN_IN_LOCK_FAILURES: 10, SIGN_IN_LOCK_MINUTES: 15 };
    const delays = Array.from({ length: 11 }, (_, i) =>
      signInDelayMs(i, { ...config, SIGN_IN_MAX_DELAY_MS: 30_000 }),
    );
    expect(delays).toEqual([0, 0, 0, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    expect(signInDelayMs(5, { ...config, SIGN_IN_MAX_DELAY_MS: 0 })).toBe(0);
  });

  it('delays then locks an unknown login like a known one; an administrator unlocks it', async () => {
    for (const target of ['unknown', 'known'] as const) {
      const a = await account('inspector');
      const l = target === 'known' ? a.login : `ghost-${randomBytes(4).toString('hex')}`;
      for (let i = 0; i < 10; i++) expect((await login(l, 'wrong password')).statusCode).toBe(401);
      const locked = await login(l, a.password);
      expect(locked.statusCode).toBe(429);
      expect(locked.json().code).toBe('SIGN_IN_LOCKED');
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(14 * 60);
      const failures = (await auditRows('sign_in_failed')).filter((r) =>
        target === 'known' ? r.detail.login === l : r.detail.loginHash === auditLoginHash(t.deps.keys, l),
      );
      // What was typed as an unknown login (it may be a password) is never kept in clear.
      if (target === 'unknown') expect(failures.every((r) => r.detail.login === undefined)).toBe(true);
      expect(failures.map((r) => r.detail.delayMs ?? null)).toEqual([0, 0, 0, 5, 5, 5, 5, 5, 5, 5, null]);
      expect(failures.at(-1)!.detail.reason).toBe('locked');
      await unlockSignIn(t.deps.pool, l.toUpperCase());
      if (target === 'known') expect((await login(l, a.password)).json().status).toBe('signed_in');
      else expect((await login(l, 'x')).json().code).toBe('LOGIN_INVALID');
    }
  });

  it('a success resets the count; a lock ends by itself after its time', async () => {
    const a = await account('inspector');
    for (let i = 0; i < 9; i++) await login(a.login, 'wrong');
    expect((await login(a.login, a.password)).statusCode).toBe(200);
    for (let i = 0; i < 9; i++) expect((await login(a.login, 'wrong')).statusCode).toBe(401);
    expect((await login(a.login, 'wrong')).statusCode).toBe(401);
    expect((await login(a.login, a.password)).statusCode).toBe(429);
    await t.deps.pool.query(
      "update sign_in_failures set locked_until = now() - interval '1 second' where login = $1",
      [a.login],
    );
    expect((await login(a.login, a.password)).statusCode).toBe(200);
  });
});

describe('two-factor sign-in', () => {
  it('requires enrolment for a supervisor: enrol, confirm with a first code, signed in', async () => {
    const a = await account('supervisor');
    const first = (await login(a.login, a.password)).json();
    expect(first).toMatchObject({ status: 'totp_enrolment_required', challenge: expect.any(String) });
    expect(Date.parse(first.challengeExpiresAt) - Date.now()).toBeLessThanOrEqual(300_000);
    // An enrolment challenge is not a sign-in challenge.
    const wrongKind = await post('/v1/auth/login/totp', { challenge: first.challenge, code: '123456' });
    expect(wrongKind.json()).toMatchObject({ code: 'CHALLENGE_INVALID' });
    expect(
      (await post('/v1/auth/totp/confirm', { challenge: first.challenge, code: '123456' })).json().code,
    ).toBe('TOTP_NOT_STARTED');
    const enrol = await post('/v1/auth/totp/enrol', { challenge: first.challenge });
    expect(enrol.statusCode).toBe(200);
    const { secret, otpauthUri, qrSvg } = enrol.json();
    expect(otpauthUri).toMatch(/^otpauth:\/\/totp\/Jarima:/);
    expect(otpauthUri).toContain(`secret=${secret}`);
    expect(qrSvg).toContain('<svg');
    const { rows } = await t.deps.pool.query('select totp_secret_enc from staff where id = $1', [a.id]);
    expect(rows[0].totp_secret_enc.toString('latin1')).not.toContain(secret);
    const code = await codeAt(secret);
    const wrong = code === '000000' ? '111111' : '000000';
    expect(
      (await post('/v1/auth/totp/confirm', { challenge: first.challenge, code: wrong })).json().code,
    ).toBe('TOTP_INVALID');
    const done = await post('/v1/auth/totp/confirm', { challenge: first.challenge, code });
    expect(done.statusCode).toBe(200);
    const { recoveryCodes, session } = done.json();
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    for (const c of recoveryCodes) expect(c).toMatch(/^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
    expect(session).toMatchObject({ role: 'supervisor', subjectId: a.id });
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(session.token) });
    expect(me.statusCode).toBe(200);
    expect(await auditRows('totp_enrolled', a.id)).toHaveLength(1);
    // Enrolled: a second enrolment is refused, and the next sign-in asks for a code.
    expect((await post('/v1/auth/totp/enrol', { challenge: first.challenge })).json().code).toBe(
      'TOTP_ALREADY_ENROLLED',
    );
    expect((await login(a.login, a.password)).json().status).toBe('totp_required');
  });

  it('signs in with a code once: the same code again is refused', async () => {
    const s = await signInStaff(t, 'admin');
    const { challenge } = (await login(s.login, s.password)).json();
    // The enrolment used this step's code already; the next step's is fresh.
    const next = await codeAt(s.totpSecret!, 1);
    const ok = await post('/v1/auth/login/totp', { challenge, code: next });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ status: 'signed_in', role: 'admin' });
    const again = await post('/v1/auth/login/totp', { challenge, code: next });
    expect(again.statusCode).toBe(401);
    expect(again.json()).toMatchObject({ code: 'TOTP_INVALID', field: 'code' });
    expect((await auditRows('totp_failed', s.id)).map((r) => r.detail.reason)).toEqual(['wrong_totp']);
  });

  it('accepts a code one step off either way, not two', async () => {
    const s = await signInStaff(t, 'supervisor');
    await t.deps.pool.query('update staff set totp_last_step = null where id = $1', [s.id]);
    const now = await awayFromStepEdge();
    const { challenge } = (await login(s.login, s.password)).json();
    const tryCode = async (offset: number) =>
      (await post('/v1/auth/login/totp', { challenge, code: await codeAt(s.totpSecret!, offset, now) }))
        .statusCode;
    expect(await tryCode(-2)).toBe(401);
    expect(await tryCode(2)).toBe(401);
    expect(await tryCode(-1)).toBe(200);
    expect(await tryCode(1)).toBe(200);
    // Now at step +1: the current step's code is older than the last one accepted.
    expect(await tryCode(0)).toBe(401);
  });

  it('a recovery code signs in once, however it is typed', async () => {
    const a = await account('supervisor');
    const { challenge: enrolChallenge } = (await login(a.login, a.password)).json();
    const { secret } = (await post('/v1/auth/totp/enrol', { challenge: enrolChallenge })).json();
    const { recoveryCodes } = (
      await post('/v1/auth/totp/confirm', { challenge: enrolChallenge, code: await codeAt(secret) })
    ).json();
    const { challenge } = (await login(a.login, a.password)).json();
    const typed = ` ${recoveryCodes[3].toUpperCase().replaceAll('-', ' ')} `;
    const ok = await post('/v1/auth/login/totp', { challenge, recoveryCode: typed });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().status).toBe('signed_in');
    expect(await auditRows('recovery_code_used', a.id)).toMatchObject([{ detail: { remaining: 9 } }]);
    const again = await post('/v1/auth/login/totp', { challenge, recoveryCode: recoveryCodes[3] });
    expect(again.statusCode).toBe(401);
    expect(again.json()).toMatchObject({ code: 'RECOVERY_CODE_INVALID', field: 'recoveryCode' });
    const { rows } = await t.deps.pool.query(
      'select count(*)::int as n from staff_recovery_codes where staff_id = $1 and used_at is null',
      [a.id],
    );
    expect(rows[0].n).toBe(9);
  });

  it('wrong codes count as failed sign-ins and lock the login', async () => {
    const s = await signInStaff(t, 'admin');
    const { challenge } = (await login(s.login, s.password)).json();
    const right = await codeAt(s.totpSecret!, 1);
    const wrong = right === '000000' ? '111111' : '000000';
    const answers: number[] = [];
    for (let i = 0; i < 10; i++)
      answers.push((await post('/v1/auth/login/totp', { challenge, code: wrong })).statusCode);
    expect(answers).toEqual([...Array(9).fill(401), 429]);
    expect((await login(s.login, s.password)).statusCode).toBe(429);
  });

  it('is optional for an inspector: set up while signed in, then asked for; turned off with a code', async () => {
    const s = await signInStaff(t, 'inspector');
    expect(s.totpSecret).toBeNull();
    const enrol = await post('/v1/auth/totp/enrol', {}, bearer(s.token));
    expect(enrol.statusCode).toBe(200);
    const { secret } = enrol.json();
    const confirmed = await post('/v1/auth/totp/confirm', { code: await codeAt(secret) }, bearer(s.token));
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.json().session).toBeUndefined();
    expect(confirmed.json().recoveryCodes).toHaveLength(10);
    const { challenge, status } = (await login(s.login, s.password)).json();
    expect(status).toBe('totp_required');
    const used = await codeAt(secret, 1);
    const signedIn = (await post('/v1/auth/login/totp', { challenge, code: used })).json();
    const del = (code: string, token = signedIn.token) =>
      t.app.inject({ method: 'DELETE', url: '/v1/me/totp', payload: { code }, headers: bearer(token) });
    expect((await del(used)).json().code).toBe('TOTP_INVALID'); // already used
    expect((await del('12345')).json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'code' });
    expect((await del(await codeAt(secret, -1))).json().code).toBe('TOTP_INVALID'); // older than the last used
    // A step later than any used one is fresh.
    await t.deps.pool.query('update staff set totp_last_step = totp_last_step - 5 where id = $1', [s.id]);
    expect((await del(await codeAt(secret))).statusCode).toBe(204);
    expect(await auditRows('totp_removed', s.id)).toHaveLength(1);
    expect((await login(s.login, s.password)).json().status).toBe('signed_in');
  });

  it('cannot be turned off by a role that requires it; an administrator reset makes it enrol again', async () => {
    const s = await signInStaff(t, 'supervisor');
    const res = await t.app.inject({
      method: 'DELETE',
      url: '/v1/me/totp',
      payload: { code: await codeAt(s.totpSecret!, 1) },
      headers: bearer(s.token),
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('TOTP_REQUIRED');
    await resetTotp(t.deps.pool, s.id);
    expect((await login(s.login, s.password)).json().status).toBe('totp_enrolment_required');
  });

  it.each([
    ['/v1/auth/login/totp', { challenge: 'x' }, 'code'],
    [
      '/v1/auth/login/totp',
      { challenge: 'x', code: '123456', recoveryCode: 'abcd-efgh-jkmn' },
      'recoveryCode',
    ],
    ['/v1/auth/login/totp', { challenge: 'x', code: '12345a' }, 'code'],
    ['/v1/auth/login/totp', { code: '123456' }, 'challenge'],
    ['/v1/auth/login/totp', { challenge: 'x', code: '123456', more: 1 }, 'more'],
    ['/v1/auth/totp/enrol', {}, 'challenge'],
    ['/v1/auth/totp/enrol', { challenge: '' }, 'challenge'],
    ['/v1/auth/totp/confirm', { challenge: 'x' }, 'code'],
    ['/v1/auth/totp/confirm', { challenge: 'x', code: '1234567' }, 'code'],
  ])('%s refuses %j with 400 on %s', async (url, payload, field) => {
    const res = await post(url, payload);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', field });
  });

  it('refuses a forged or expired challenge', async () => {
    const s = await signInStaff(t, 'admin');
    const { challenge } = (await login(s.login, s.password)).json();
    const [payload, sig] = challenge.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forge = (c: object) => `${Buffer.from(JSON.stringify(c)).toString('base64url')}.${sig}`;
    for (const bad of [
      forge({ ...claims, e: claims.e + 3600 }),
      forge({ ...claims, k: 'enrol' }),
      'junk',
      `${payload}.`,
    ]) {
      const res = await post('/v1/auth/login/totp', { challenge: bad, code: '123456' });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'CHALLENGE_INVALID', field: 'challenge' });
    }
    // Five minutes on, the genuine one is refused too.
    expect(() => readChallenge(t.deps.keys.challenge, challenge, 'totp', Date.now() + 301_000)).toThrow(
      expect.objectContaining({ code: 'CHALLENGE_INVALID' }),
    );
    expect(readChallenge(t.deps.keys.challenge, challenge, 'totp').staffId).toBe(s.id);
  });

  it('a challenge dies with the password it followed, and with a disabled account', async () => {
    for (const change of [
      (id: string) => t.deps.pool.query("update staff set password_hash = 'x' where id = $1", [id]),
      (id: string) => t.deps.pool.query('update staff set active = false where id = $1', [id]),
    ]) {
      const s = await signInStaff(t, 'admin');
      const { challenge } = (await login(s.login, s.password)).json();
      await change(s.id);
      const res = await post('/v1/auth/login/totp', { challenge, code: await codeAt(s.totpSecret!, 1) });
      expect(res.json()).toMatchObject({ code: 'CHALLENGE_INVALID' });
    }
  });
});

describe('TOTP_REQUIRED_ROLES', () => {
  it('is a comma list of staff roles, or none', () => {
    const roles = (v: string) => [...totpRequiredRoles(loadConfig({ TOTP_REQUIRED_ROLES: v }))].sort();
    expect(roles('none')).toEqual([]);
    expect(roles(' inspector , admin')).toEqual(['admin', 'inspector']);
    expect([...totpRequiredRoles(loadConfig({}))].sort()).toEqual(['admin', 'supervisor']);
    expect(() => loadConfig({ TOTP_REQUIRED_ROLES: 'citizen' })).toThrow();
  });
});

describe('password links', () => {
  const linkFor = async (staffId: string, purpose: 'set' | 'reset' = 'set') =>
    createPasswordLink(t.deps.pool, {
      staffId,
      purpose,
      createdBy: null,
      baseUrl: 'https://jarima.example/',
    });
  const setPassword = (token: string, password: string) => post('/v1/auth/password', { token, password });

  it('sets the first password once, then signs in with it', async () => {
    const a = await account('inspector', null);
    const link = await linkFor(a.id);
    expect(link.url).toBe(`https://jarima.example/staff/set-password#token=${link.token}`);
    const info = await t.app.inject({ method: 'GET', url: `/v1/auth/password-links/${link.token}` });
    expect(info.json()).toEqual({
      login: a.login,
      displayName: 'Test inspector',
      purpose: 'set',
      expiresAt: link.expiresAt.toISOString(),
    });
    expect(link.expiresAt.getTime() - Date.now()).toBeGreaterThan(71 * 3600_000);
    const { rows } = await t.deps.pool.query("select encode(token_hash, 'hex') as h from password_links");
    expect(rows.some((r) => r.h.includes(Buffer.from(link.token).toString('hex')))).toBe(false);
    expect((await setPassword(link.token, 'tramvay yonida yashil choynak')).statusCode).toBe(204);
    expect((await login(a.login, 'tramvay yonida yashil choynak')).json().status).toBe('signed_in');
    const again = await setPassword(link.token, 'another long passphrase');
    expect(again.statusCode).toBe(410);
    expect(again.json().code).toBe('LINK_USED');
    expect(
      (await t.app.inject({ method: 'GET', url: `/v1/auth/password-links/${link.token}` })).json().code,
    ).toBe('LINK_USED');
    expect(await auditRows('password_set', a.id)).toMatchObject([
      { actor_id: a.id, detail: { purpose: 'set' } },
    ]);
  });

  it('a reset ends the sessions and the failure count; a newer link voids the older', async () => {
    const s = await signInStaff(t, 'inspector');
    await login(s.login, 'wrong');
    const older = await linkFor(s.id, 'reset');
    const link = await linkFor(s.id, 'reset');
    expect((await setPassword(older.token, 'a brand new passphrase')).json().code).toBe('LINK_EXPIRED');
    expect((await setPassword(link.token, 'a brand new passphrase')).statusCode).toBe(204);
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(s.token) });
    expect(me.statusCode).toBe(401);
    const { rows } = await t.deps.pool.query('select 1 from sign_in_failures where login = $1', [s.login]);
    expect(rows).toHaveLength(0);
    expect((await login(s.login, s.password)).statusCode).toBe(401);
  });

  it('refuses an expired, an unknown and a malformed link', async () => {
    const a = await account('inspector', null);
    const link = await linkFor(a.id);
    await t.deps.pool.query(
      "update password_links set expires_at = now() - interval '1 minute' where staff_id = $1",
      [a.id],
    );
    const expired = await setPassword(link.token, 'tramvay yonida yashil choynak');
    expect(expired.statusCode).toBe(410);
    expect(expired.json()).toMatchObject({ code: 'LINK_EXPIRED', field: 'token' });
    const unknown = randomBytes(32).toString('base64url');
    expect((await setPassword(unknown, 'tramvay yonida yashil choynak')).statusCode).toBe(404);
    const info = await t.app.inject({ method: 'GET', url: `/v1/auth/password-links/${unknown}` });
    expect(info.statusCode).toBe(404);
    expect(info.json().code).toBe('LINK_INVALID');
    const bad = await t.app.inject({ method: 'GET', url: '/v1/auth/password-links/short' });
    expect(bad.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'token' });
  });

  it.each([
    ['short pass', 'too_short'],
    ['passwordpassword', 'common'],
    ['LOGIN-is-in-here: %login%', 'contains_login'],
    ['x'.repeat(300), 'too_long'],
  ])('refuses the weak password %s with 422 (%s)', async (pw, reason) => {
    const a = await account('inspector', null);
    const link = await linkFor(a.id);
    const res = await setPassword(link.token, pw.replace('%login%', a.login.toUpperCase()));
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'PASSWORD_WEAK', field: 'password', details: { reason } });
    // The link is still good.
    expect((await setPassword(link.token, 'tramvay yonida yashil choynak')).statusCode).toBe(204);
  });

  it.each([
    [{ password: 'tramvay yonida yashil choynak' }, 'token'],
    [{ token: 'abc', password: 'tramvay yonida yashil choynak' }, 'token'],
    [{ token: 'a'.repeat(43) }, 'password'],
    [{ token: 'a'.repeat(43), password: '' }, 'password'],
    [{ token: 'a'.repeat(43), password: 'tramvay yonida yashil', x: 1 }, 'x'],
  ])('refuses the body %j with 400 on %s', async (payload, field) => {
    const res = await post('/v1/auth/password', payload);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', field });
  });
});

describe('changing one’s own password', () => {
  it('needs the current password, checks the new one, and ends the other sessions', async () => {
    const s = await signInStaff(t, 'inspector');
    const other = (await login(s.login, s.password)).json();
    const change = (body: object) => post('/v1/me/password', body, bearer(s.token));
    const wrong = await change({ currentPassword: 'nope', newPassword: 'tramvay yonida yashil choynak' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ code: 'PASSWORD_WRONG', field: 'currentPassword' });
    const weak = await change({ currentPassword: s.password, newPassword: 'passwordpassword' });
    expect(weak.statusCode).toBe(422);
    expect(weak.json()).toMatchObject({
      code: 'PASSWORD_WEAK',
      field: 'newPassword',
      details: { reason: 'common' },
    });
    expect((await change({ currentPassword: s.password })).json()).toMatchObject({ field: 'newPassword' });
    expect(
      (await change({ currentPassword: s.password, newPassword: 'tramvay yonida yashil choynak' }))
        .statusCode,
    ).toBe(204);
    const meHere = await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(s.token) });
    expect(meHere.statusCode).toBe(200);
    const meThere = await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(other.token) });
    expect(meThere.statusCode).toBe(401);
    expect((await login(s.login, 'tramvay yonida yashil choynak')).json().status).toBe('signed_in');
    expect(await auditRows('password_changed', s.id)).toMatchObject([
      { outcome: 'denied', detail: { reason: 'wrong_password' } },
      { outcome: 'ok' },
    ]);
  });

  it('counts wrong current passwords as failed sign-ins: they lock the login', async () => {
    const s = await signInStaff(t, 'inspector');
    const change = (currentPassword: string) =>
      post(
        '/v1/me/password',
        { currentPassword, newPassword: 'tramvay yonida yashil choynak' },
        bearer(s.token),
      );
    for (let i = 0; i < 10; i++) expect((await change('nope')).statusCode).toBe(401);
    const locked = await change(s.password);
    expect(locked.statusCode).toBe(429);
    expect(locked.json().code).toBe('SIGN_IN_LOCKED');
    expect((await login(s.login, s.password)).statusCode).toBe(429);
  });
});
