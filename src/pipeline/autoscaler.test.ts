import { describe, expect, it } from 'vitest';
import {
  citizenWithEvidence,
  createTestApp,
  reportBody,
  submitReport,
  until,
} from '../../test/helpers/app.js';

describe('the autoscaler', () => {
  it('raises a stage’s workers for a burst of reports and lowers them after it', async () => {
    const t = await createTestApp(
      { AUTOSCALE_DOWN_AFTER: '2', AUTOSCALE_TARGET_AGE_SECONDS: 'validate:1,dedupe:5,enrich:5,analyze:5' },
      { workers: 'validate:1,dedupe:1,enrich:1,analyze:1' },
    );
    // Ticked by hand with a clock of its own, so the test decides when a round happens and how long it spans.
    const workers = t.workers!;
    const scaler = new (await import('./autoscaler.js')).Autoscaler(t.deps, workers, { apiInProcess: true });
    let clock = Date.now();
    await scaler.tick(clock);
    expect(workers.sizes().validate).toBe(1);

    const c = await citizenWithEvidence(t);
    const burst = await Promise.all(
      Array.from({ length: 400 }, () => submitReport(t, c.token, reportBody([c.evidenceId]))),
    );
    expect(burst.every((r) => r.statusCode === 202)).toBe(true);
    // Every process hears the arrivals by NOTIFY; wait until this one has.
    await until('arrivals heard', async () => t.deps.arrivals.total('validate') >= 400, 5000);
    clock += 100; // 400 arrivals in a tenth of a second: 4,000/s, far more than one worker per stage carries
    const up = await scaler.tick(clock);
    const validate = up.find((d) => d.stage === 'validate');
    expect(validate, JSON.stringify(scaler.decisions.slice(-4))).toBeDefined();
    expect(validate!.desired).toBeGreaterThan(1);
    expect(validate!.inputs.arrivalRate).toBeCloseTo(4000, 0);
    expect(workers.sizes().validate).toBe(validate!.desired);
    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain(`jarima_stage_workers_desired{stage="validate"} ${validate!.desired}`);

    // Quiet rounds: the burst is over and its queue drained; after AUTOSCALE_DOWN_AFTER of them it shrinks.
    await until(
      'the burst has left validate',
      async () =>
        (await t.deps.pool.query(`select count(*)::int as n from reports where status = 'received'`)).rows[0]!
          .n === 0,
      30_000,
    );
    for (let i = 0; i < 3 && workers.sizes().validate > 1; i++) {
      clock += 1000;
      await scaler.tick(clock);
    }
    expect(workers.sizes().validate).toBe(1);
    expect(scaler.decisions.some((d) => d.stage === 'validate' && d.current > 1 && d.desired === 1)).toBe(
      true,
    );
  }, 60_000);
});
