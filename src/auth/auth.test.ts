import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  createTestApp,
  latestCode,
  newPhone,
  signInCitizen,
  staffToken,
  type TestApp,
} from '../../test/helpers/app.js';
import { hmac } from '../platform/security/keys.js';
import { createStaff } from './staff.js';
import { issueToken } from './tokens.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({
    OTP_RESEND_SECONDS: '0',
    OTP_MAX_PER_HOUR: '50',
    RATE_LIMIT_AUTH_PER_MINUTE: '1000',
  });
});

const otp = (phone: string) => t.app.inject({ method: 'POST', url: '/v1/auth/otp', payload: { phone } });
const verify = (phone: string, code: string) =>
  t.app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { phone, code } });

describe('citizen sign-in — happy', () => {
  it('sends a code through the SMS port and exchanges it for a citizen token', async () => {
    const phone = newPhone();
    const sent = await otp(phone.replace('+998', '998 ').replace(/(\d{2})(\d{3})/, '$1 $2-'));
    expect(sent.statusCode).toBe(202);
    expect(sent.json()).toMatchObject({ expiresInSeconds: 300 });
    expect(sent.json().sentTo).not.toContain(phone.slice(6, 9));
    const res = await verify(phone, latestCode(t, phone));
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ tokenType: 'Bearer', role: 'citizen' });
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(body.token) });
    expect(me.json()).toMatchObject({
      id: body.subjectId,
      role: 'citizen',
      phone: `${phone.slice(0, 4)} ${phone.slice(4, 6)} *** ** ${phone.slice(-2)}`,
    });
  });

  it('signs the same phone in as the same citizen', async () => {
    const phone = newPhone();
    const a = await signInCitizen(t, phone);
    const b = await signInCitizen(t, phone);
    expect(a.id).toBe(b.id);
  });

  it('stores the code hashed and the phone only as hash and ciphertext', async () => {
    const phone = newPhone();
    await otp(phone);
    const code = latestCode(t, phone);
    const { rows } = await t.deps.pool.query("select encode(code_hash, 'hex') as h from otp_codes");
    expect(rows.every((r) => !r.h.includes(Buffer.from(code).toString('hex')))).toBe(true);
    await verify(phone, code);
    const { rows: citizens } = await t.deps.pool.query('select phone_hash, phone_enc from citizens');
    for (const c of citizens) {
      expect(c.phone_hash.toString('latin1')).not.toContain(phone.slice(4));
      expect(c.phone_enc.toString('latin1')).not.toContain(phone.slice(4));
    }
  });

  it('logs staff in with argon2id passwords and reports their role', async () => {
    await createStaff(t.deps.pool, {
      login: 'Insp1',
      role: 'inspector',
      displayName: 'Inspector One',
      password: 'correct horse',
    });
    const { rows } = await t.deps.pool.query("select password_hash from staff where login = 'insp1'");
    expect(rows[0].password_hash).toMatch(/^\$argon2id\$/);
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { login: 'insp1', password: 'correct horse' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().role).toBe('inspector');
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(res.json().token) });
    expect(me.json()).toMatchObject({ role: 'inspector', login: 'insp1', displayName: 'Inspector One' });
  });
});

describe('citizen sign-in — errors', () => {
  it.each([
    [{ phone: '12345' }, 'phone'],
    [{ phone: '+7 999 123 45 67' }, 'phone'],
    [{}, 'phone'],
    [{ phone: '+998901234567', extra: 1 }, 'extra'],
  ])('rejects %j with VALIDATION_FAILED on %s', async (payload, field) => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/auth/otp', payload });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', field });
  });

  it('rejects a malformed JSON body with MALFORMED_BODY', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/otp',
      payload: '{"phone":',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('MALFORMED_BODY');
  });

  it('rejects a wrong code, and a code for a phone that asked for none', async () => {
    const phone = newPhone();
    await otp(phone);
    const wrong = latestCode(t, phone) === '000000' ? '111111' : '000000';
    const res = await verify(phone, wrong);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'OTP_INVALID', field: 'code' });
    expect((await verify(newPhone(), '123456')).json().code).toBe('OTP_INVALID');
    expect((await verify(phone, '12ab56')).json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'code',
    });
  });

  it('a code works once', async () => {
    const phone = newPhone();
    await otp(phone);
    const code = latestCode(t, phone);
    expect((await verify(phone, code)).statusCode).toBe(200);
    expect((await verify(phone, code)).json().code).toBe('OTP_INVALID');
  });

  it('an expired code is refused', async () => {
    const phone = newPhone();
    await otp(phone);
    await t.deps.pool.query("update otp_codes set expires_at = now() - interval '1 second'");
    expect((await verify(phone, latestCode(t, phone))).json().code).toBe('OTP_INVALID');
  });

  it('staff login with a wrong password or unknown login is LOGIN_INVALID either way', async () => {
    await createStaff(t.deps.pool, {
      login: 'sup1',
      role: 'supervisor',
      displayName: 'S',
      password: 'right password',
    });
    for (const payload of [
      { login: 'sup1', password: 'wrong' },
      { login: 'nobody', password: 'right password' },
    ]) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload });
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('LOGIN_INVALID');
    }
  });
});

describe('citizen sign-in — security', () => {
  it('allows 5 wrong attempts per code; after that even the right code is refused', async () => {
    const phone = newPhone();
    await otp(phone);
    const code = latestCode(t, phone);
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 4; i++) expect((await verify(phone, wrong)).json().code).toBe('OTP_INVALID');
    expect((await verify(phone, wrong)).json().code).toBe('OTP_ATTEMPTS_EXCEEDED');
    const res = await verify(phone, code);
    expect(res.statusCode).toBe(429);
    expect(res.json().code).toBe('OTP_ATTEMPTS_EXCEEDED');
  });

  it('limits codes per phone: a resend gap and a cap per hour', async () => {
    const strict = await createTestApp({ OTP_RESEND_SECONDS: '60', OTP_MAX_PER_HOUR: '2' });
    const phone = newPhone();
    const send = () => strict.app.inject({ method: 'POST', url: '/v1/auth/otp', payload: { phone } });
    expect((await send()).statusCode).toBe(202);
    const tooSoon = await send();
    expect(tooSoon.statusCode).toBe(429);
    expect(tooSoon.json().code).toBe('OTP_TOO_SOON');
    expect(tooSoon.headers['retry-after']).toBe('60');
    await strict.deps.pool.query("update otp_codes set created_at = created_at - interval '2 minutes'");
    expect((await send()).statusCode).toBe(202);
    await strict.deps.pool.query("update otp_codes set created_at = created_at - interval '2 minutes'");
    expect((await send()).json().code).toBe('OTP_LIMIT_REACHED');
  });

  it('limits sign-in requests per client address', async () => {
    const limited = await createTestApp({ RATE_LIMIT_AUTH_PER_MINUTE: '3' });
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await limited.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: { login: 'x', password: 'y' },
      });
      codes.push(res.statusCode);
      if (res.statusCode === 429) expect(res.json().code).toBe('RATE_LIMITED');
    }
    expect(codes).toEqual([401, 401, 401, 429, 429]);
  });

  it('refuses forged, expired and malformed tokens', async () => {
    const { token } = await signInCitizen(t);
    const [payload] = token.split('.');
    const forged = `${Buffer.from(JSON.stringify({ s: 'x', r: 'admin', e: 9e9 })).toString('base64url')}.${token.split('.')[1]}`;
    const expired = issueToken(t.deps.keys.token, { id: 'x', role: 'citizen', sid: randomUUID() }, -10);
    const sessionless = `${Buffer.from(JSON.stringify({ s: 'x', r: 'citizen', e: 9e9 })).toString('base64url')}`;
    const noSession = `${sessionless}.${hmac(t.deps.keys.token, sessionless).toString('base64url')}`;
    for (const bad of [forged, `${payload}.`, 'garbage', noSession]) {
      const res = await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(bad) });
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('TOKEN_INVALID');
    }
    const late = await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(expired) });
    expect([late.statusCode, late.json().code]).toEqual([401, 'TOKEN_EXPIRED']);
    expect((await t.app.inject({ method: 'GET', url: '/v1/me' })).json().code).toBe('UNAUTHENTICATED');
  });

  it('does not put the phone or code in the outbox of another phone', async () => {
    const a = newPhone();
    await otp(a);
    const res = await t.app.inject({
      method: 'GET',
      url: `/v1/dev/outbox?to=${encodeURIComponent(newPhone())}`,
    });
    expect(res.json().messages).toEqual([]);
  });

  it('gives staff tokens the staff role only', async () => {
    const token = await staffToken(t, 'admin');
    expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) })).json().role).toBe(
      'admin',
    );
  });
});
