import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, signInCitizen, staffMember, type TestApp } from '../../test/helpers/app.js';

/** The simulators' /v1/dev routes: open in development, admins only in production, absent without a simulator. */
const DEV_ROUTES = ['/v1/dev/outbox', '/v1/dev/email-outbox'];
const get = (t: TestApp, url: string, token?: string) =>
  t.app.inject({ method: 'GET', url, ...(token ? { headers: bearer(token) } : {}) });

describe('simulator routes in development', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });

  it('are open, as today, and /readyz names every simulator', async () => {
    for (const url of DEV_ROUTES) expect((await get(t, url)).statusCode).toBe(200);
    expect((await get(t, '/readyz')).json().simulators).toEqual(['sms', 'email', 'registry', 'payouts']);
  });
});

describe('simulator routes in production, opted into', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      NODE_ENV: 'production',
      JARIMA_SECRET: 's'.repeat(40),
      JARIMA_ALLOW_SIMULATORS: 'sms,email,registry,payouts',
    });
  });

  it('answer only an admin', async () => {
    const citizen = await signInCitizen(t);
    const admin = await staffMember(t, 'admin');
    const inspector = await staffMember(t, 'inspector');
    for (const url of DEV_ROUTES) {
      expect((await get(t, url)).statusCode).toBe(401);
      expect((await get(t, url, citizen.token)).statusCode).toBe(403);
      expect((await get(t, url, inspector.token)).statusCode).toBe(403);
      const ok = await get(t, url, admin.token);
      expect(ok.statusCode).toBe(200);
      expect(ok.json().simulator).toBe(true);
    }
  });
});

describe('simulator routes with the real systems configured', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      SMTP_URL: 'smtp://127.0.0.1:9',
      PAYOUT_PROVIDER_URL: 'http://127.0.0.1:9',
      PAYOUT_PROVIDER_API_KEY: 'k',
      PAYOUT_WEBHOOK_SECRET: 'w'.repeat(32),
    });
  });

  it('do not exist for a port with no simulator', async () => {
    expect((await get(t, '/v1/dev/email-outbox')).statusCode).toBe(404);
    expect((await get(t, '/v1/dev/outbox')).statusCode).toBe(200);
    expect((await get(t, '/readyz')).json().simulators).toEqual(['sms', 'registry']);
  });
});
