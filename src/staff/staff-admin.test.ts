import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, staffMember, type TestApp } from '../../test/helpers/app.js';
import { bootstrapAdmin } from './staff-admin.service.js';

let t: TestApp;
let admin: { token: string; id: string };

beforeAll(async () => {
  t = await createTestApp();
  admin = await staffMember(t, 'admin');
}, 60_000);

const asAdmin = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object, token = admin.token) =>
  t.app.inject({ method, url, headers: bearer(token), ...(payload ? { payload } : {}) });

const tokenOf = (url: string) => new URL(url).hash.replace(/^#token=/, '');
const PASSWORD = 'correct horse battery staple 42';

/** Creates an account through the API, sets its password through its link, signs in: the account and a token. */
async function onboard(login: string, role: 'inspector' | 'supervisor' | 'admin' = 'inspector') {
  const created = await asAdmin('POST', '/v1/admin/staff', { login, displayName: `Person ${login}`, role });
  expect(created.statusCode, created.body).toBe(201);
  const { account, setPasswordLink } = created.json();
  const set = await t.app.inject({
    method: 'POST',
    url: '/v1/auth/password',
    payload: { token: tokenOf(setPasswordLink.url), password: PASSWORD },
  });
  expect(set.statusCode, set.body).toBe(204);
  const signIn = await t.app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    payload: { login, password: PASSWORD },
  });
  expect(signIn.statusCode, signIn.body).toBe(200);
  return { account, token: signIn.json().token as string, signIn: signIn.json() };
}

const me = (token: string) => t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) });

describe('staff administration', () => {
  it('creates an account with a one-time link; the person sets a password and signs in', async () => {
    const created = await asAdmin('POST', '/v1/admin/staff', {
      login: 'Dilnoza.Karimova',
      displayName: 'Dilnoza Karimova',
      role: 'inspector',
    });
    expect(created.statusCode, created.body).toBe(201);
    const { account, setPasswordLink } = created.json();
    expect(account).toMatchObject({
      login: 'dilnoza.karimova',
      displayName: 'Dilnoza Karimova',
      role: 'inspector',
      unitId: null,
      active: true,
      passwordSet: false,
      totpEnrolled: false,
      locked: false,
      lastSignInAt: null,
    });
    expect(setPasswordLink.url).toMatch(/^http:\/\/[^/]+\/staff\/set-password#token=[A-Za-z0-9_-]{40,}$/);
    expect(Date.parse(setPasswordLink.expiresAt)).toBeGreaterThan(Date.now());
    // Only the link's hash is kept.
    const { rows } = await t.deps.pool.query(
      'select token_hash, purpose from password_links where staff_id = $1',
      [account.id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].purpose).toBe('set');
    expect(rows[0].token_hash.toString('base64url')).not.toBe(tokenOf(setPasswordLink.url));

    const token = tokenOf(setPasswordLink.url);
    const set = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/password',
      payload: { token, password: PASSWORD },
    });
    expect(set.statusCode, set.body).toBe(204);
    const signIn = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { login: 'DILNOZA.karimova', password: PASSWORD },
    });
    expect(signIn.statusCode, signIn.body).toBe(200);
    expect(signIn.json().status).toBe('signed_in');
    expect((await me(signIn.json().token)).statusCode).toBe(200);

    const listed = await asAdmin('GET', '/v1/admin/staff?q=karimova');
    expect(listed.json().items).toEqual([expect.objectContaining({ id: account.id, passwordSet: true })]);
  });

  it('refuses a login already taken, whatever its case', async () => {
    const body = { login: 'same.login', displayName: 'One', role: 'inspector' };
    expect((await asAdmin('POST', '/v1/admin/staff', body)).statusCode).toBe(201);
    const again = await asAdmin('POST', '/v1/admin/staff', { ...body, login: 'Same.Login' });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'LOGIN_TAKEN', field: 'login' });
  });

  it('answers a bad body with 400 and the field', async () => {
    const cases: [object, string][] = [
      [{ login: 'ab', displayName: 'X', role: 'inspector' }, 'login'],
      [{ login: 'has space', displayName: 'X', role: 'inspector' }, 'login'],
      [{ login: 'ok.login', displayName: '', role: 'inspector' }, 'displayName'],
      [{ login: 'ok.login', displayName: 'X\u0007', role: 'inspector' }, 'displayName'],
      [{ login: 'ok.login', displayName: 'X', role: 'chief' }, 'role'],
      [{ login: 'ok.login', displayName: 'X' }, 'role'],
      [{ login: 'ok.login', displayName: 'X', role: 'inspector', unitId: 'one' }, 'unitId'],
      [{ login: 'ok.login', displayName: 'X', role: 'inspector', password: 'x' }, 'password'],
    ];
    for (const [body, field] of cases) {
      const res = await asAdmin('POST', '/v1/admin/staff', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json(), JSON.stringify(body)).toMatchObject({ code: 'VALIDATION_FAILED', field });
    }
    const unknownUnit = await asAdmin('POST', '/v1/admin/staff', {
      login: 'ok.login',
      displayName: 'X',
      role: 'inspector',
      unitId: 999_999,
    });
    expect(unknownUnit.statusCode).toBe(422);
    expect(unknownUnit.json()).toMatchObject({ code: 'UNIT_NOT_FOUND', field: 'unitId' });
    const empty = await asAdmin('PATCH', `/v1/admin/staff/${admin.id}`, {});
    expect(empty.statusCode).toBe(400);
    const badId = await asAdmin('PATCH', '/v1/admin/staff/not-a-uuid', { active: true });
    expect(badId.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'id' });
    const nobody = await asAdmin('PATCH', '/v1/admin/staff/00000000-0000-4000-8000-000000000000', {
      active: true,
    });
    expect(nobody.statusCode).toBe(404);
    expect(nobody.json().code).toBe('ACCOUNT_NOT_FOUND');
  });

  it('disabling an account ends its sessions: its token is refused at the next request', async () => {
    const { account, token } = await onboard('to.disable');
    expect((await me(token)).statusCode).toBe(200);
    const off = await asAdmin('PATCH', `/v1/admin/staff/${account.id}`, { active: false });
    expect(off.statusCode, off.body).toBe(200);
    expect(off.json().active).toBe(false);
    expect((await me(token)).statusCode).toBe(401);
    const signIn = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { login: 'to.disable', password: PASSWORD },
    });
    expect(signIn.statusCode).toBe(401);
    expect((await asAdmin('PATCH', `/v1/admin/staff/${account.id}`, { active: true })).json().active).toBe(
      true,
    );
  });

  it("ends a signed-in member's sessions on disable and on a role change, at the next request", async () => {
    const a = await staffMember(t, 'inspector');
    const b = await staffMember(t, 'inspector');
    expect((await me(a.token)).statusCode).toBe(200);
    expect((await asAdmin('PATCH', `/v1/admin/staff/${a.id}`, { active: false })).statusCode).toBe(200);
    expect((await me(a.token)).statusCode).toBe(401);
    expect(
      (await asAdmin('PATCH', `/v1/admin/staff/${b.id}`, { unitId: null, displayName: 'B' })).statusCode,
    ).toBe(200);
    expect((await me(b.token)).statusCode).toBe(200);
    expect((await asAdmin('PATCH', `/v1/admin/staff/${b.id}`, { role: 'supervisor' })).statusCode).toBe(200);
    const after = await me(b.token);
    expect(after.statusCode).toBe(401);
    expect(after.json().code).toBe('SESSION_REVOKED');
  });

  it('a role change ends the sessions too; a name or unit change does not', async () => {
    const { account, token } = await onboard('to.promote');
    const renamed = await asAdmin('PATCH', `/v1/admin/staff/${account.id}`, { displayName: 'New Name' });
    expect(renamed.json().displayName).toBe('New Name');
    expect((await me(token)).statusCode).toBe(200);
    const promoted = await asAdmin('PATCH', `/v1/admin/staff/${account.id}`, { role: 'supervisor' });
    expect(promoted.statusCode, promoted.body).toBe(200);
    expect(promoted.json().role).toBe('supervisor');
    expect((await me(token)).statusCode).toBe(401);
  });

  it('a password reset stops the old password and the sessions, and gives a new link', async () => {
    const { account, token } = await onboard('to.reset');
    const reset = await asAdmin('POST', `/v1/admin/staff/${account.id}/password-link`);
    expect(reset.statusCode, reset.body).toBe(201);
    expect(reset.json().url).toContain('/staff/set-password#token=');
    expect((await me(token)).statusCode).toBe(401);
    const old = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { login: 'to.reset', password: PASSWORD },
    });
    expect(old.statusCode).toBe(401);
    const listed = await asAdmin('GET', '/v1/admin/staff?q=to.reset');
    expect(listed.json().items[0].passwordSet).toBe(false);
  });

  it('unlocks a locked sign-in and resets two-factor sign-in', async () => {
    const { account } = await onboard('to.unlock');
    await t.deps.pool.query(
      `insert into sign_in_failures (login, failures, locked_until) values ($1, 10, now() + interval '15 minutes')
       on conflict (login) do update set failures = 10, locked_until = excluded.locked_until`,
      ['to.unlock'],
    );
    expect((await asAdmin('GET', '/v1/admin/staff?q=to.unlock')).json().items[0].locked).toBe(true);
    const unlock = await asAdmin('POST', `/v1/admin/staff/${account.id}/unlock`);
    expect(unlock.statusCode, unlock.body).toBe(204);
    expect((await asAdmin('GET', '/v1/admin/staff?q=to.unlock')).json().items[0].locked).toBe(false);
    const totp = await asAdmin('POST', `/v1/admin/staff/${account.id}/reset-totp`);
    expect(totp.statusCode, totp.body).toBe(204);
    const missing = await asAdmin('POST', '/v1/admin/staff/00000000-0000-4000-8000-000000000000/unlock');
    expect(missing.json().code).toBe('ACCOUNT_NOT_FOUND');
  });

  it('never disables or demotes the last active administrator', async () => {
    const { rows } = await t.deps.pool.query(
      `select id from staff where role = 'admin' and active and id <> $1`,
      [admin.id],
    );
    for (const r of rows) await t.deps.pool.query('update staff set active = false where id = $1', [r.id]);
    const off = await asAdmin('PATCH', `/v1/admin/staff/${admin.id}`, { active: false });
    expect(off.statusCode).toBe(409);
    expect(off.json()).toMatchObject({ code: 'LAST_ADMIN', field: 'active' });
    const demoted = await asAdmin('PATCH', `/v1/admin/staff/${admin.id}`, { role: 'supervisor' });
    expect(demoted.json()).toMatchObject({ code: 'LAST_ADMIN', field: 'role' });
    // With a second administrator, the first may step down.
    const second = await onboard('second.admin', 'admin');
    const down = await asAdmin('PATCH', `/v1/admin/staff/${second.account.id}`, { role: 'inspector' });
    expect(down.statusCode, down.body).toBe(200);
    expect((await me(admin.token)).statusCode).toBe(200);
  });

  it('lists and filters accounts', async () => {
    const all = (await asAdmin('GET', '/v1/admin/staff')).json().items as { login: string; role: string }[];
    expect(all.map((a) => a.login)).toEqual([...all.map((a) => a.login)].sort());
    const inspectors = (await asAdmin('GET', '/v1/admin/staff?role=inspector')).json().items;
    expect(inspectors.length).toBeGreaterThan(0);
    expect(inspectors.every((a: { role: string }) => a.role === 'inspector')).toBe(true);
    const inactive = (await asAdmin('GET', '/v1/admin/staff?active=false')).json().items;
    expect(inactive.every((a: { active: boolean }) => !a.active)).toBe(true);
    // A LIKE wildcard in q is a literal character.
    expect((await asAdmin('GET', '/v1/admin/staff?q=%25')).json().items).toEqual([]);
    expect((await asAdmin('GET', '/v1/admin/staff?role=chief')).json()).toMatchObject({ field: 'role' });
  });

  it('records every change in the audit log', async () => {
    const { rows } = await t.deps.pool.query<{ action: string }>(
      `select distinct action from audit_log where actor_id = $1`,
      [admin.id],
    );
    const actions = rows.map((r) => r.action);
    for (const a of [
      'staff_created',
      'staff_disabled',
      'staff_enabled',
      'role_changed',
      'staff_updated',
      'password_link_created',
      'sign_in_unlocked',
      'totp_reset',
    ])
      expect(actions).toContain(a);
  });

  it('gives a fresh installation its first administrator once, through a one-time link', async () => {
    const links = { baseUrl: 'https://jarima.example.uz' };
    expect(await bootstrapAdmin(t.deps.pool, links)).toBeNull();
    await t.deps.pool.query(`update staff set active = false where role = 'admin'`);
    const link = await bootstrapAdmin(t.deps.pool, links);
    expect(link?.url).toMatch(/^https:\/\/jarima\.example\.uz\/staff\/set-password#token=/);
    // Once: a second start (or a second process starting at the same time) prints nothing.
    expect(await bootstrapAdmin(t.deps.pool, links)).toBeNull();
    const { rows } = await t.deps.pool.query(
      `select s.role, s.password_hash, l.purpose from staff s join password_links l on l.staff_id = s.id
        where s.login = 'admin'`,
    );
    expect(rows).toEqual([{ role: 'admin', password_hash: null, purpose: 'bootstrap' }]);
    const set = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/password',
      payload: { token: tokenOf(link!.url), password: PASSWORD },
    });
    expect(set.statusCode, set.body).toBe(204);
    const signIn = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { login: 'admin', password: PASSWORD },
    });
    // The password works; an administrator then enrols two-factor sign-in where that is required.
    expect(signIn.statusCode, signIn.body).toBe(200);
    expect(['signed_in', 'totp_enrolment_required']).toContain(signIn.json().status);
  });
});
