import { beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  citizenWithEvidence,
  createTestApp,
  reportBody,
  reviewableReport,
  settledReport,
  staffMember,
  submitReport,
  type TestApp,
} from '../../test/helpers/app.js';
import { findReport } from '../reports/reports.repository.js';
import { applyTransitions } from '../reports/transition.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({}, { workers: true });
});

const get = (url: string) => t.app.inject({ method: 'GET', url });

/** Moves a report on through the real transition code, as the forward stage and the registry callbacks do. */
async function move(id: string, toStatus: 'forwarded' | 'fined' | 'paid', fineAmountSum?: number) {
  const report = (await findReport(t.deps.pool, id))!;
  await applyTransitions(t.deps.pool, [
    {
      report,
      t: { toStatus, eventType: toStatus, actor: 'test', patch: fineAmountSum ? { fineAmountSum } : {} },
    },
  ]);
}

describe('statistics roll-ups and the public API', () => {
  it('counts each step in the transition that makes it, by district and type, and serves it without auth', async () => {
    const inspector = await staffMember(t, 'inspector');
    const kept = await reviewableReport(t);
    const other = await reviewableReport(t, { violationCode: '128.1' });
    await t.app.inject({ method: 'POST', url: '/v1/review/next', headers: bearer(inspector.token) });
    const claimed = (await t.deps.pool.query(`select id from reports where status = 'in_review'`)).rows[0].id;
    expect([kept.id, other.id]).toContain(claimed);
    await t.app.inject({
      method: 'POST',
      url: `/v1/review/${claimed}/decision`,
      headers: bearer(inspector.token),
      payload: { decision: 'approve' },
    });
    await move(claimed, 'forwarded');
    await move(claimed, 'fined', 824_000);
    await move(claimed, 'paid', 824_000);
    // Rejected by the automated checks, before its place was resolved.
    const c = await citizenWithEvidence(t);
    const future = await submitReport(
      t,
      c.token,
      reportBody([c.evidenceId], { incidentAt: new Date(Date.now() + 3600_000).toISOString() }),
    );
    expect((await settledReport(t, future.json().id, c.token)).status).toBe('rejected');

    const summary = await get('/v1/stats/summary');
    expect(summary.statusCode).toBe(200);
    expect(summary.headers['cache-control']).toBe('public, max-age=60');
    expect(summary.json().today).toEqual({
      submitted: 3,
      approved: 1,
      rejected: 1,
      duplicate: 0,
      fined: 1,
      paid: 1,
      finedSum: 824_000,
      paidSum: 824_000,
    });
    expect(summary.json().allTime).toEqual(summary.json().today);

    // The roll-ups agree with the reports themselves.
    const { rows } = await t.deps.pool.query(
      `select count(*) filter (where status not in ('received', 'validated', 'deduplicated', 'enriched'))::int as n
         from reports`,
    );
    expect(summary.json().today.submitted).toBe(rows[0].n);

    const byDistrict = await get('/v1/stats/by-district');
    const tashkent = byDistrict
      .json()
      .items.find((i: { districtId: number | null }) => i.districtId !== null);
    expect(tashkent.districtName).toBeTruthy();
    expect(tashkent.regionName).toBeTruthy();
    expect(tashkent.counts.submitted).toBe(2);
    const unknown = byDistrict.json().items.find((i: { districtId: number | null }) => i.districtId === null);
    expect(unknown.counts).toMatchObject({ submitted: 1, rejected: 1 });
    const oneType = await get('/v1/stats/by-district?type=128.1');
    expect(oneType.json().items.map((i: { counts: { submitted: number } }) => i.counts.submitted)).toEqual([
      1,
    ]);

    const days = await get('/v1/stats/timeseries');
    expect(days.json().bucket).toBe('day');
    expect(days.json().points).toHaveLength(1);
    expect(days.json().points[0].counts).toEqual(summary.json().today);
    const hours = await get('/v1/stats/timeseries?bucket=hour');
    const total = hours
      .json()
      .points.reduce((s: number, p: { counts: { submitted: number } }) => s + p.counts.submitted, 0);
    expect(total).toBe(3);
  });

  it('refuses bad ranges by field', async () => {
    const after = await get('/v1/stats/by-district?from=2026-02-10&to=2026-02-01');
    expect(after.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'from' });
    const long = await get('/v1/stats/timeseries?bucket=hour&from=2026-01-01&to=2026-03-01');
    expect(long.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'to' });
    for (const url of [
      '/v1/stats/by-district?from=yesterday',
      '/v1/stats/by-district?from=2026-02-30',
      '/v1/stats/timeseries?bucket=minute',
      '/v1/stats/by-district?type=%27%3B',
      '/v1/stats/timeseries?region=0',
    ]) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(400);
    }
  });
});

/** N approved reports spread over a box around central Tashkent, straight into the table (volume for the map). */
async function approvedInBulk(n: number): Promise<void> {
  await t.deps.pool.query(
    `with c as (insert into citizens (id, phone_hash, phone_enc)
                values (gen_random_uuid(), sha256(gen_random_uuid()::text::bytea), '\\x00') returning id)
     insert into reports (id, citizen_id, violation_code, plate, plate_input, lat, lon, incident_at, status,
                          last_event_hash, plate_region_code)
     select gen_random_uuid(), c.id, '128-6.1', '01A' || lpad(i::text, 3, '0') || 'BC', '01 A ' || i,
            41.20 + random() * 0.2, 69.10 + random() * 0.3, now() - interval '2 hours', 'approved', '\\x00', '01'
       from c, generate_series(1, $1) i`,
    [n],
  );
}

describe('map and open data', () => {
  it('shows confirmed violations only, with plates reduced to their region; clusters when dense', async () => {
    const pending = await reviewableReport(t, { lat: 41.3, lon: 69.25 });
    await approvedInBulk(600);
    const all = await get('/v1/map/reports?bbox=69.0,41.1,69.5,41.5');
    expect(all.statusCode).toBe(200);
    expect(all.json().clustered).toBe(true);
    const total = all.json().total;
    expect(total).toBeGreaterThanOrEqual(600);
    expect(all.json().clusters.reduce((s: number, c: { count: number }) => s + c.count, 0)).toBe(total);

    const few = await get('/v1/map/reports?bbox=69.10,41.20,69.13,41.23');
    expect(few.json().clustered).toBe(false);
    for (const p of few.json().points) {
      expect(p.plate).toMatch(/^01\*+$/);
      expect(p.lat).toBeGreaterThanOrEqual(41.2);
      expect(p.at).toMatch(/:00:00\.000Z$/);
    }
    const around = await get('/v1/map/reports?bbox=69.2499,41.2999,69.2501,41.3001');
    expect(around.json().total).toBe(0); // the pending report is not public
    const { rows } = await t.deps.pool.query('select status from reports where id = $1', [pending.id]);
    expect(rows[0].status).toBe('awaiting_review');

    for (const bad of [
      'bbox=69.5,41.1,69.0,41.5',
      'bbox=abc',
      'bbox=69,41,70,42&from=2026-02-01T00:00:00Z&to=2025-01-01T00:00:00Z',
    ]) {
      const res = await get(`/v1/map/reports?${bad}`);
      expect(res.statusCode, bad).toBe(400);
    }
  });

  it('exports anonymised rows as streamed CSV', async () => {
    const res = await get('/v1/open-data/reports.csv');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const lines = res.body.trim().split('\r\n');
    expect(lines[0]).toBe(
      'incident_hour,region,district,violation_code,status,plate_region,fine_sum,lat,lon',
    );
    const { rows } = await t.deps.pool.query(
      `select count(*)::int as n from reports where status in ('approved', 'forwarded', 'fined', 'paid', 'rewarded')`,
    );
    expect(lines.length - 1).toBe(rows[0].n);
    expect(res.body).not.toMatch(/01A\d{3}BC/); // no plates
    expect(res.body).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/); // no ids
    for (const line of lines.slice(1, 50)) expect(line.split(',').at(-1)).toMatch(/^\d+(\.\d{1,3})?$/);
  });
});
