import { describe, expect, it } from 'vitest';
import { createTestApp } from '../../test/helpers/app.js';
import { DemandForecaster } from './demand.js';

const HOUR = 3_600_000;
/** Reports per hour of the day: quiet nights, a morning rise, a peak at 17:00 (UTC hours). */
const SHAPE = [4, 3, 2, 2, 3, 8, 20, 60, 90, 80, 70, 70, 75, 70, 65, 80, 110, 140, 120, 80, 50, 30, 15, 8];

describe('DemandForecaster', () => {
  it('learns the daily shape from the roll-ups and sizes the intake stages ahead of the evening peak', async () => {
    const t = await createTestApp();
    const now = Date.UTC(2026, 10, 27, 15, 55); // 15:55, five minutes before a busier hour
    const end = Math.floor(now / HOUR) * HOUR;
    const hours = Array.from({ length: 21 * 24 }, (_, i) => end - (21 * 24 - i) * HOUR);
    // Split each hour's count over two districts, as the roll-ups are.
    await t.deps.pool.query(
      `insert into stats_hourly (hour, region_id, district_id, violation_code, submitted)
       select h, 1, d, '128-6.1', n from unnest($1::timestamptz[], $2::int[], $3::int[]) as t(h, d, n)`,
      [
        hours.flatMap((h) => [new Date(h), new Date(h)]),
        hours.flatMap(() => [1, 2]),
        hours.flatMap((h) => {
          const n = SHAPE[new Date(h).getUTCHours()]!;
          return [Math.floor(n / 2), Math.ceil(n / 2)];
        }),
      ],
    );
    const f = new DemandForecaster({ pool: t.deps.pool, logger: t.deps.logger });
    const model = await f.retrain(now);
    expect(model!.kind).toBe('daily+weekly');
    expect(f.expectedPerHour(now)).toBeCloseTo(80, 0); // 15:00
    expect(f.expectedPerHour(now + HOUR)).toBeCloseTo(110, 0); // 16:00
    // Ten minutes ahead is already 16:00: the intake stages are sized for it now.
    expect(f.rate('validate', now)! * 3600).toBeCloseTo(110, 0);
    expect(f.rate('forward', now)).toBeNull(); // after review, arrivals follow the inspectors, not the citizens
    // At 06:30 the next hour (07:00, 60) is three times 06:00 (20): a peak worth warming the caches for.
    const f2 = new DemandForecaster({ pool: t.deps.pool, logger: t.deps.logger });
    await f2.retrain(Date.UTC(2026, 10, 27, 6, 30));
    expect(f2.peakAhead(Date.UTC(2026, 10, 27, 6, 30))).toBe(true);
    expect(f2.peakAhead(Date.UTC(2026, 10, 27, 11, 30))).toBe(false);
  });

  it('has no opinion without history', async () => {
    const t = await createTestApp();
    const f = new DemandForecaster({ pool: t.deps.pool, logger: t.deps.logger });
    expect(await f.retrain()).toBeNull();
    expect(f.rate('validate')).toBeNull();
    expect(f.peakAhead()).toBe(false);
  });
});
