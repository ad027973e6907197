import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, staffToken, type TestApp } from '../../test/helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});

describe('HTTP basics', () => {
  it('sends security headers on API responses', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    });
  });

  it('serves the OpenAPI document and a docs page with a CSP that lets it load', async () => {
    const json = await t.app.inject({ method: 'GET', url: '/docs/json' });
    expect(json.statusCode).toBe(200);
    const doc = json.json();
    expect(doc.openapi).toBe('3.0.3');
    for (const path of [
      '/v1/auth/otp',
      '/v1/auth/otp/verify',
      '/v1/auth/login',
      '/v1/evidence',
      '/v1/reports',
      '/v1/reports/{id}',
      '/v1/reports/{id}/events',
      '/v1/me/reports',
      '/v1/violation-types',
      '/healthz',
      '/readyz',
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    const page = await t.app.inject({ method: 'GET', url: '/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).not.toBe("default-src 'none'; frame-ancestors 'none'");
  });

  it('refuses non-finite numbers, non-canonical ids and far dates as VALIDATION_FAILED naming the field', async () => {
    const id = '01900000-0000-7000-8000-00000000abcd';
    const headers = bearer(await staffToken(t, 'inspector'));
    for (const [url, field] of [
      ['/v1/stats/timeseries?region=1e309', 'region'],
      ['/v1/stats/timeseries?region=NaN', 'region'],
      ['/v1/stats/timeseries?district=-Infinity', 'district'],
      ['/v1/stats/timeseries?to=0001-01-01', 'to'],
      ['/v1/stats/by-district?from=275760-09-13', 'from'],
      [`/v1/reports/urn:uuid:${id}`, 'id'],
      [`/v1/reports/${id.toUpperCase()}`, 'id'],
    ] as const) {
      const res = await t.app.inject({ method: 'GET', url, headers });
      expect(res.statusCode, `${url}: ${res.body}`).toBe(400);
      expect(res.json(), url).toMatchObject({ code: 'VALIDATION_FAILED', field });
    }
  });

  it('answers an unknown route with ROUTE_NOT_FOUND', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'ROUTE_NOT_FOUND' });
  });

  it('reports ready when the database and migrations are in place', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json().checks).toMatchObject({ database: { ok: true }, migrations: { ok: true } });
    // ffmpeg's version and source, reported (the bundled build is not ok, but does not take the process out).
    const { media } = res.json().checks;
    expect(media.detail).toContain(`ffmpeg ${t.deps.media.tools.version}`);
    expect(media.ok).toBe(t.deps.media.tools.source === 'system');
  });
});
