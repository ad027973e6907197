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
