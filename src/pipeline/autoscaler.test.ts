import { describe, expect, it } from 'vitest';
import {
  citizenWithEvidence,
  createTestApp,
  reportBody,
  staffToken,
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

  it('runs a quiet stage in batches with no standing worker, and gives it a pool again for a burst', async () => {
    const t = await createTestApp(
      {
        // On, so the stages start as it would start them; its own rounds too rare to come during the test.
        AUTOSCALE: 'true',
        AUTOSCALE_INTERVAL_SECONDS: '600',
        AUTOSCALE_DOWN_AFTER: '1',
        AUTOSCALE_BATCH_HOLD_SHARE: '0.5',
        AUTOSCALE_TARGET_AGE_SECONDS: 'validate:1,dedupe:5,enrich:5,analyze:5',
      },
      { workers: 'validate:1,dedupe:1,enrich:1,analyze:1' },
    );
    const workers = t.workers!;
    const scaler = new (await import('./autoscaler.js')).Autoscaler(t.deps, workers, { apiInProcess: true });
    const pool = t.deps.pool;
    const metric = async (name: string) => {
      const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
      return Number(new RegExp(`^${name}\\{stage="validate"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
    };
    // Allowed batches, the stages start in them…
    expect(workers.batching().sort()).toEqual(['analyze', 'dedupe', 'enrich', 'validate']);
    let clock = Date.now();
    await scaler.tick(clock);
    clock += 1000;
    await scaler.tick(clock);
    // …and stay there while nothing arrives: far less than 4 workers' load, so no standing worker.
    expect(workers.sizes()).toMatchObject({ validate: 0, dedupe: 0, enrich: 0, analyze: 0 });
    expect(workers.batching().sort()).toEqual(['analyze', 'dedupe', 'enrich', 'validate']);
    expect(t.workers!.running()).toBe(true);

    const c = await citizenWithEvidence(t);
    const workerSeconds = await metric('jarima_stage_worker_seconds_total');
    const started = performance.now();
    const ids = (
      await Promise.all(Array.from({ length: 5 }, () => submitReport(t, c.token, reportBody([c.evidenceId]))))
    ).map((r) => r.json().id as string);
    // One photo for all: the first goes to review, the rest are its duplicates — either way out of the stages.
    const passed = async () =>
      (
        await pool.query<{ n: number }>(
          `select count(*)::int as n from reports where id = any($1) and status in ('awaiting_review', 'duplicate')`,
          [ids],
        )
      ).rows[0]!.n;
    await until('the reports pass every stage in batches', async () => (await passed()) === 5, 20_000);
    const wall = (performance.now() - started) / 1000;
    // Each batch waited for the hold (half of validate's 1 s target) before it was swept…
    const { rows } = await pool.query<{ waited: number }>(
      `select max(extract(epoch from v.at - s.at))::float8 as waited
         from report_events s join report_events v on v.report_id = s.report_id and v.to_status = 'validated'
        where s.type = 'submitted' and s.report_id = any($1)`,
      [ids],
    );
    expect(rows[0]!.waited).toBeGreaterThanOrEqual(0.45);
    // …the hand-offs enqueued no job (the batches are on duty for their stages)…
    const jobs = await pool.query<{ n: number }>(
      `select count(*)::int as n from graphile_worker.jobs where task_identifier in ('validate', 'dedupe', 'enrich', 'analyze')`,
    );
    expect(jobs.rows[0]!.n).toBe(0);
    // …and validate held worker time only while its batches ran, not the whole time (a pool of one would: wall).
    const held = (await metric('jarima_stage_worker_seconds_total')) - workerSeconds;
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(wall / 2);
    expect(await metric('jarima_stage_workers')).toBe(0);

    // A burst far past what batches are for (4 workers' load): validate gets a pool at once; its batches end.
    const burst = await Promise.all(
      Array.from({ length: 300 }, () => submitReport(t, c.token, reportBody([c.evidenceId]))),
    );
    expect(burst.every((r) => r.statusCode === 202)).toBe(true);
    await until('arrivals heard', async () => t.deps.arrivals.total('validate') >= 305, 5000);
    clock += 100; // 300 arrivals in a tenth of a second
    await scaler.tick(clock);
    expect(workers.sizes().validate).toBeGreaterThan(0);
    expect(workers.batching()).not.toContain('validate');
    // The pool's workers are what the gauge shows (the batches' last claim does not leave it at 0).
    expect(await metric('jarima_stage_workers')).toBe(workers.sizes().validate);
    await until(
      'the burst has left the automated stages',
      async () =>
        (
          await pool.query(
            `select count(*)::int as n from reports where status in ('received', 'validated', 'deduplicated', 'enriched')`,
          )
        ).rows[0]!.n === 0,
      60_000,
    );
  }, 90_000);

  it('starts quiet stages in batches by default, each report held a few tens of milliseconds per stage', async () => {
    // The defaults, with the autoscaler on as `jarima start` runs it (the test helpers turn it off).
    const t = await createTestApp(
      { AUTOSCALE: 'true', AUTOSCALE_INTERVAL_SECONDS: '600' },
      { workers: 'validate:1,dedupe:1,enrich:1,analyze:1' },
    );
    expect(t.deps.config.AUTOSCALE_BATCH_HOLD_SHARE).toBeGreaterThan(0);
    expect(t.workers!.batching().sort()).toEqual(['analyze', 'dedupe', 'enrich', 'validate']);
    expect(t.workers!.sizes()).toMatchObject({ validate: 0, dedupe: 0, enrich: 0, analyze: 0 });
    // The operator sees why a stage shows no workers: it runs in batches.
    const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('jarima_stage_batching{stage="analyze"} 1');
    const overview = await t.app.inject({
      method: 'GET',
      url: '/v1/ops/overview',
      headers: { authorization: `Bearer ${await staffToken(t, 'admin')}` },
    });
    expect(overview.json().now.stages.validate).toMatchObject({ workers: 0, batching: true });
    expect(overview.json().now.stages.forward).toMatchObject({ batching: false });
    const c = await citizenWithEvidence(t);
    const id = (await submitReport(t, c.token, reportBody([c.evidenceId]))).json().id as string;
    const status = async () =>
      (await t.deps.pool.query<{ status: string }>('select status from reports where id = $1', [id])).rows[0]!
        .status;
    await until('the report passes every stage', async () => (await status()) === 'awaiting_review', 20_000);
    // Held per stage for its share of the default target age (validate 5 s × 0.01: 50 ms), not half of it.
    const { rows } = await t.deps.pool.query<{ waited: number }>(
      `select extract(epoch from v.at - s.at)::float8 as waited
         from report_events s join report_events v on v.report_id = s.report_id and v.to_status = 'validated'
        where s.type = 'submitted' and s.report_id = $1`,
      [id],
    );
    expect(rows[0]!.waited).toBeGreaterThanOrEqual(0.045);
    const jobs = await t.deps.pool.query<{ n: number }>(
      `select count(*)::int as n from graphile_worker.jobs where task_identifier in ('validate', 'dedupe', 'enrich', 'analyze')`,
    );
    expect(jobs.rows[0]!.n).toBe(0);
  }, 60_000);
});
