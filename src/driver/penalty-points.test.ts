import { beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  createTestApp,
  reviewableReport,
  staffMember,
  type TestApp,
} from '../../test/helpers/app.js';

let t: TestApp;
let admin: { token: string; id: string };
beforeAll(async () => {
  t = await createTestApp({}, { workers: true });
  admin = await staffMember(t, 'admin');
});

const setPoints = (body: object) =>
  t.app.inject({
    method: 'PUT',
    url: '/v1/admin/penalty-points',
    headers: bearer(admin.token),
    payload: body,
  });

describe('penalty points', () => {
  it('shows the points in force on the incident date, not a later change', async () => {
    const r = await reviewableReport(t, { violationCode: '128-6.1' });
    // The registry's callback is not what this test is about: the case is ruled directly.
    const { rows } = await t.deps.pool.query(
      `update reports set ruling_number = '770000011234', fined_at = now(), fine_amount_sum = 824000
        where id = $1 returning plate`,
      [r.id],
    );
    const tomorrow = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    expect(
      (await setPoints({ violationCode: '128-6.1', effectiveFrom: '2025-01-01', points: 4 })).statusCode,
    ).toBe(200);
    expect(
      (await setPoints({ violationCode: '128-6.1', effectiveFrom: tomorrow, points: 9 })).statusCode,
    ).toBe(200);

    const found = await t.app.inject({
      method: 'POST',
      url: '/v1/fines/lookup',
      payload: { plate: rows[0].plate, rulingNumber: '770000011234' },
    });
    expect(found.statusCode).toBe(200);
    expect(found.json().case.penaltyPoints).toBe(4);

    const list = await t.app.inject({
      method: 'GET',
      url: '/v1/admin/penalty-points',
      headers: bearer(admin.token),
    });
    expect(list.json().items.filter((i: { violationCode: string }) => i.violationCode === '128-6.1')).toEqual(
      [
        expect.objectContaining({ effectiveFrom: '2024-10-01', points: 1 }),
        { violationCode: '128-6.1', effectiveFrom: '2025-01-01', points: 4, source: null },
        { violationCode: '128-6.1', effectiveFrom: tomorrow, points: 9, source: null },
      ],
    );
    const audited = await t.deps.pool.query(
      "select count(*)::int as n from audit_log where action = 'penalty_points_set' and actor_id = $1",
      [admin.id],
    );
    expect(audited.rows[0].n).toBe(2);
  });

  it('refuses an unknown violation type and points out of range', async () => {
    expect(
      (await setPoints({ violationCode: '999.9', effectiveFrom: '2025-01-01', points: 1 })).json().code,
    ).toBe('VIOLATION_TYPE_UNKNOWN');
    const big = await setPoints({ violationCode: '128-6.1', effectiveFrom: '2025-01-01', points: 1000 });
    expect(big.statusCode).toBe(400);
    const badDay = await setPoints({ violationCode: '128-6.1', effectiveFrom: '2025-02-30', points: 1 });
    expect(badDay.statusCode).toBe(400);
  });
});
