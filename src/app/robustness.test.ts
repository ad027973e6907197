import { beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  citizenWithEvidence,
  createTestApp,
  staffToken,
  type TestApp,
} from '../../test/helpers/app.js';

/**
 * "Nothing a client sends produces a 500": every route gets a spread of malformed input, as a fuzzer or a broken
 * client would send it, and must answer 4xx with a stable code.
 */
let t: TestApp;
let citizen: string;
let staff: string;
beforeAll(async () => {
  t = await createTestApp();
  citizen = (await citizenWithEvidence(t)).token;
  staff = await staffToken(t, 'inspector');
});

const NASTY_VALUES: unknown[] = [
  null,
  true,
  -1,
  1e308,
  '',
  'x'.repeat(10_000),
  'nul\u0000byte',
  '\ud83d\ude97 🚗 ğüşöç',
  '../../etc/passwd',
  "'; drop table reports; --",
  [],
  [null],
  {},
  { $gt: '' },
];

// `optional`: every field may be absent, so a value the schema coerces (true → 1) can be a valid request.
const JSON_ROUTES: { url: string; fields: string[]; auth?: 'citizen' | 'staff'; optional?: boolean }[] = [
  { url: '/v1/auth/otp', fields: ['phone'] },
  { url: '/v1/auth/otp/verify', fields: ['phone', 'code'] },
  { url: '/v1/auth/login', fields: ['login', 'password'] },
  {
    url: '/v1/reports',
    fields: ['violationCode', 'plate', 'lat', 'lon', 'incidentAt', 'description', 'evidenceIds'],
    auth: 'citizen',
  },
  { url: '/v1/review/next', fields: ['region', 'district', 'violation'], auth: 'staff', optional: true },
  {
    url: '/v1/review/01900000-0000-7000-8000-000000000000/decision',
    fields: ['decision', 'reasonCode', 'note'],
    auth: 'staff',
  },
];

describe('malformed input never causes a 500', () => {
  for (const route of JSON_ROUTES) {
    it(`POST ${route.url}: every field, every nasty value`, async () => {
      const headers = route.auth ? bearer(route.auth === 'staff' ? staff : citizen) : {};
      for (const field of route.fields) {
        for (const value of NASTY_VALUES) {
          const res = await t.app.inject({
            method: 'POST',
            url: route.url,
            payload: { [field]: value },
            headers,
          });
          const what = `${field}=${JSON.stringify(value)?.slice(0, 40)}: ${res.body}`;
          expect(res.statusCode, what).toBeLessThan(500);
          if (route.optional && res.statusCode < 300) continue;
          expect(res.statusCode, what).toBeGreaterThanOrEqual(400);
          expect(typeof res.json().code).toBe('string');
        }
      }
      for (const raw of ['', 'null', '[]', '"text"', '{', '{"a":1}}', '\u0000']) {
        const res = await t.app.inject({
          method: 'POST',
          url: route.url,
          payload: raw,
          headers: { ...headers, 'content-type': 'application/json' },
        });
        expect(res.statusCode, `body ${JSON.stringify(raw)}: ${res.body}`).toBeLessThan(500);
        expect(res.statusCode).toBeGreaterThanOrEqual(400);
      }
      for (const type of ['text/plain', 'application/xml', 'multipart/form-data; boundary=x']) {
        const res = await t.app.inject({
          method: 'POST',
          url: route.url,
          payload: 'phone=1',
          headers: { ...headers, 'content-type': type },
        });
        expect(res.statusCode, `${type}: ${res.body}`).toBeLessThan(500);
        expect(res.statusCode).toBeGreaterThanOrEqual(400);
      }
    });
  }

  it('GET routes with malformed ids, cursors and query strings', async () => {
    const urls = [
      '/v1/reports/not-a-uuid',
      '/v1/reports/%00',
      '/v1/reports/01900000-0000-7000-8000-000000000000/events',
      '/v1/reports/zzz/events',
      '/v1/me/reports?limit=-1',
      '/v1/me/reports?limit=abc',
      '/v1/me/reports?cursor=%27',
      '/v1/me/reports?limit=1&limit=2',
      '/v1/violation-types?active=maybe',
      '/v1/boundaries?level=county',
      '/v1/boundaries?detail=%00',
      '/v1/boundaries?level=region&detail=outline&extra=1',
      '/v1/areas?level=',
      '/v1/areas?level=district&level=region',
      '/v1/dev/outbox?to=%00',
      '/v1/dev/outbox?to=12',
      '/v1/review/queue?region=abc',
      '/v1/review/queue?status=approved',
      '/v1/review/queue?cursor=%27',
      '/v1/review/queue?cursor=eyJwcmlvcml0eSI6Im5vIn0',
      `/v1/review/queue?cursor=${Buffer.from(JSON.stringify({ priority: 1e308, due: null, id: '01900000-0000-7000-8000-000000000000' })).toString('base64url')}`,
      '/v1/review/queue?overdue=perhaps',
      '/v1/stats/by-district?from=2026-13-01',
      '/v1/stats/timeseries?bucket=hour&from=2020-01-01&to=2026-01-01',
      '/v1/stats/timeseries?district=1e308',
      '/v1/review/not-a-uuid',
      '/v1/review/01900000-0000-7000-8000-000000000000',
      '/v1/review/01900000-0000-7000-8000-000000000000/evidence/01900000-0000-7000-8000-000000000000?variant=raw',
      '/v1/review/01900000-0000-7000-8000-000000000000/evidence/01900000-0000-7000-8000-000000000000',
    ];
    for (const url of urls) {
      for (const token of [citizen, staff]) {
        const res = await t.app.inject({ method: 'GET', url, headers: bearer(token) });
        expect(res.statusCode, `${url}: ${res.body}`).toBeGreaterThanOrEqual(400);
        expect(res.statusCode, `${url}: ${res.body}`).toBeLessThan(500);
      }
    }
  });

  it('evidence upload with broken multipart bodies', async () => {
    const bodies = [
      {
        payload: '--x\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc',
        type: 'multipart/form-data; boundary=x',
      },
      { payload: 'garbage', type: 'multipart/form-data' },
      { payload: '', type: 'multipart/form-data; boundary=x' },
    ];
    for (const b of bodies) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/evidence',
        payload: b.payload,
        headers: { ...bearer(citizen), 'content-type': b.type },
      });
      expect(res.statusCode, `${b.payload}: ${res.body}`).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, `${b.payload}: ${res.body}`).toBeLessThan(500);
    }
  });
});
