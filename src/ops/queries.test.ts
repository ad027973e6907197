import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, staffMember, type TestApp } from '../../test/helpers/app.js';
import { BUCKETS_MS, QueryTimings, quantileBound } from '../platform/db/query-timing.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});

describe('slow-query visibility', () => {
  it('keeps a histogram per statement and bounds the 95th percentile by its bucket', () => {
    const q = new QueryTimings();
    for (let i = 0; i < 94; i++) q.record('select  1\n  from x', 0.3);
    for (let i = 0; i < 6; i++) q.record('select 1 from x', 40);
    const [top] = q.top(5);
    expect(top).toMatchObject({ statement: 'select 1 from x', calls: 100 });
    expect(top!.p95Ms).toBe(50);
    expect(
      quantileBound(
        BUCKETS_MS.map(() => 0),
        0.95,
      ),
    ).toBe(0);
  });

  it('shows admins the statements this process ran, and says whether pg_stat_statements is there', async () => {
    const admin = await staffMember(t, 'admin');
    await t.app.inject({ method: 'GET', url: '/v1/stats/summary' });
    const res = await t.app.inject({
      method: 'GET',
      url: '/v1/admin/queries?limit=200',
      headers: bearer(admin.token),
    });
    expect(res.statusCode).toBe(200);
    const statements = res.json().process.map((p: { statement: string }) => p.statement);
    // The summary's statement (collapsed whitespace, first 160 characters), measured in this process.
    expect(statements.some((s: string) => s.startsWith('with bounds as (select (date_trunc('))).toBe(true);
    expect(typeof res.json().pgStatStatements.available).toBe('boolean');
    const inspector = await staffMember(t, 'inspector');
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/admin/queries', headers: bearer(inspector.token) }))
        .statusCode,
    ).toBe(403);
  });
});
