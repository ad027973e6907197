import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/helpers/db.js';
import { spawnJarima } from '../../test/helpers/process.js';
import { BENCHMARK, erlangC, formatPlan, marginalCpu, planCapacity, waitQuantile } from './capacity.js';
import { installationCpu } from './cpu.js';

describe('queueing', () => {
  it('Erlang C is ρ for one server and matches a known table value', () => {
    expect(erlangC(1, 0.5)).toBeCloseTo(0.5, 12);
    // c = 2, a = 1 (ρ = 0.5): C = 1/3.
    expect(erlangC(2, 1)).toBeCloseTo(1 / 3, 12);
  });

  it('gives the M/M/1 wait quantile in closed form, and infinity when the stage cannot keep up', () => {
    // λ = 8/s, S = 0.1 s: ρ = 0.8, P(W > t) = 0.8·e^(−2t) → t95 = ln(16)/2.
    expect(waitQuantile(1, 8, 0.1, 0.95)).toBeCloseTo(Math.log(16) / 2, 10);
    expect(waitQuantile(1, 10, 0.1, 0.95)).toBe(Number.POSITIVE_INFINITY);
    expect(waitQuantile(4, 1, 0.1, 0.95)).toBe(0); // hardly anyone waits
  });
});

describe('planCapacity', () => {
  const base = { peakFactor: 2, targetP95: 1, cores: 2, memoryBytes: 24 * 2 ** 30, cacheMb: 256 };

  it('adds workers until each stage’s p95 wait fits its share of the target', () => {
    const measured = Object.fromEntries(
      ['validate', 'dedupe', 'enrich', 'analyze'].map((s) => [
        `service_seconds:${s}`,
        { value: 0.05, samples: 1000 },
      ]),
    );
    // 864,000 a day × 2 = 20/s; 20 × 0.05 = 1 busy worker per stage, so at least 2 each.
    const plan = planCapacity({ ...base, daily: 864_000, measured });
    expect(plan.peakPerSecond).toBeCloseTo(20, 10);
    for (const s of plan.stages) {
      expect(s.source).toBe('measured here');
      expect(s.workers).toBeGreaterThanOrEqual(2);
      expect(s.p95WaitMs).toBeLessThanOrEqual(200);
      expect(waitQuantile(s.workers - 1, 20, 0.05, 0.95) * 1000).toBeGreaterThan(200); // one fewer would not do
    }
    expect(plan.dbConnections).toBe(plan.stages.reduce((a, s) => a + 2 * s.workers + 1, 0) + 10);
  });

  it('falls back to the benchmark’s figures and says whether this machine carries the peak', () => {
    const small = planCapacity({ ...base, daily: 10_000, measured: {} });
    expect(small.stages.every((s) => s.source === 'benchmark')).toBe(true);
    expect(small.cpuSecondsPerReport.value).toBe(BENCHMARK.cpuSecondsPerReport);
    expect(small.thisMachine.maxReportsPerSecond).toBeCloseTo(2 / BENCHMARK.cpuSecondsPerReport, 6);
    expect(small.thisMachine.fitsPeak).toBe(true);
    const country = planCapacity({ ...base, daily: 5_000_000, measured: {} });
    expect(country.thisMachine.fitsPeak).toBe(false);
    expect(country.cpuCores).toBeGreaterThan(2);
  });
});

describe('marginalCpu', () => {
  it('charges reports only what they add over the machine’s background', () => {
    // Background 0.4 CPU-seconds per second; 5 ms per report; 300 s with reports (60,000 of them), 120 s without.
    const m = (value: number, samples = 10) => ({ value, samples });
    const measured = {
      'cpu_busy:cpu': m(0.4 * 300 + 0.005 * 60_000),
      'cpu_busy:seconds': m(300),
      'cpu_busy:reports': m(60_000),
      'cpu_idle:cpu': m(0.4 * 120),
      'cpu_idle:seconds': m(120),
    };
    expect(marginalCpu(measured)!.perReport).toBeCloseTo(0.005, 10);
    const plan = planCapacity({
      daily: 1000,
      peakFactor: 1,
      targetP95: 1,
      cores: 2,
      memoryBytes: 0,
      cacheMb: 256,
      measured,
    });
    expect(plan.cpuSecondsPerReport.value).toBeCloseTo(0.005, 10);
    expect(plan.thisMachine.maxReportsPerSecond).toBeCloseTo(400, 6);
    // Never idle: the background cannot be separated, so the average (an overestimate) is used.
    const busyOnly = { ...measured, 'cpu_idle:cpu': m(0), 'cpu_idle:seconds': m(0) };
    expect(marginalCpu(busyOnly)!.perReport).toBeCloseTo((0.4 * 300 + 300) / 60_000, 10);
    expect(marginalCpu({})).toBeNull();
    // Without PostgreSQL's CPU in the sums the plan says its share is missing; with it, how much it was.
    expect(marginalCpu(measured)!.how).toContain('PostgreSQL not seen');
    const withPg = {
      ...measured,
      'cpu_busy:postgres': m(0.1 * 300 + 0.002 * 60_000),
      'cpu_idle:postgres': m(0.1 * 120),
    };
    expect(marginalCpu(withPg)!.how).toContain('2.0 of 5.0 ms PostgreSQL');
  });

  it('reads the cost per report at the busiest load measured, once that band has carried enough reports', async () => {
    const { cpuBand } = await import('./capacity-recorder.js');
    expect([0.5, 1, 3, 20, 200, 300, 1e6].map(cpuBand)).toEqual([0, 0, 1, 4, 7, 8, 12]);
    const m = (value: number, samples = 10) => ({ value, samples });
    // Background 0.4 CPU/s. At ~20 reports/s (band 4) a report costs 12 ms, at ~200/s (band 7) 4 ms: claims of
    // one or two against claims of many.
    const quiet = { cpu: 0.4 * 300 + 0.012 * 6_000, seconds: 300, reports: 6_000 };
    const busy = { cpu: 0.4 * 20 + 0.004 * 4_000, seconds: 20, reports: 4_000 };
    const measured = {
      'cpu_busy:cpu': m(quiet.cpu + busy.cpu),
      'cpu_busy:seconds': m(quiet.seconds + busy.seconds),
      'cpu_busy:reports': m(quiet.reports + busy.reports),
      'cpu_idle:cpu': m(0.4 * 120),
      'cpu_idle:seconds': m(120),
      'cpu_band:4:cpu': m(quiet.cpu),
      'cpu_band:4:seconds': m(quiet.seconds),
      'cpu_band:4:reports': m(quiet.reports),
      'cpu_band:7:cpu': m(busy.cpu),
      'cpu_band:7:seconds': m(busy.seconds),
      'cpu_band:7:reports': m(busy.reports),
    };
    const fitted = marginalCpu(measured)!;
    expect(fitted.perReport).toBeCloseTo(0.004, 10);
    expect(fitted.how).toContain('at the busiest load measured (200 reports/s over 4000 reports)');
    // A busiest band with too few reports to trust (one interval) is passed over for the next.
    const thin = {
      ...measured,
      'cpu_band:9:cpu': m(0.4 * 1 + 0.001 * 400),
      'cpu_band:9:seconds': m(1),
      'cpu_band:9:reports': m(400),
    };
    expect(marginalCpu(thin)!.perReport).toBeCloseTo(0.004, 10);
    // So is one with reports enough but in one interval: a backlog finishing in it looks cheap (its reports' earlier
    // stages spent their CPU in the interval before).
    const oneInterval = {
      ...measured,
      'cpu_band:9:cpu': m(0.4 * 5 + 0.001 * 2_000, 1),
      'cpu_band:9:seconds': m(5, 1),
      'cpu_band:9:reports': m(2_000, 1),
    };
    expect(marginalCpu(oneInterval)!.perReport).toBeCloseTo(0.004, 10);
    // The transactions counted in the band say why its reports cost what they do.
    const withTransactions = { ...measured, 'cpu_band:7:transactions': m(3_600) };
    expect(marginalCpu(withTransactions)!.how).toContain(
      '(200 reports/s over 4000 reports, 0.90 transactions each)',
    );
    // What else the machine ran meanwhile (a load generator, another service) leaves the installation fewer cores:
    // 1.5 machine CPU-seconds a second in that band, of which the installation's 0.4 + 0.8 → 0.3 cores taken.
    const shared = { ...measured, 'cpu_band:7:machine': m(1.5 * 20) };
    expect(marginalCpu(shared)!.otherCores).toBeCloseTo(0.3, 10);
    const input = { daily: 1000, peakFactor: 1, targetP95: 1, cores: 2, memoryBytes: 0, cacheMb: 256 };
    expect(planCapacity({ ...input, measured }).thisMachine.maxReportsPerSecond).toBeCloseTo(2 / 0.004, 6);
    const sharedPlan = planCapacity({ ...input, measured: shared });
    expect(sharedPlan.thisMachine).toMatchObject({ otherCores: expect.closeTo(0.3, 10) });
    expect(sharedPlan.thisMachine.maxReportsPerSecond).toBeCloseTo(1.7 / 0.004, 6);
    expect(formatPlan(sharedPlan, { ...input, measured: shared })).toContain(
      '0.30 of them busy with other processes',
    );
    // Measured at 200/s against a ceiling of 425/s: the plan says the ceiling is extrapolated, and from where.
    expect(sharedPlan.thisMachine.measuredAtPerSecond).toBeCloseTo(200, 6);
    expect(formatPlan(sharedPlan, { ...input, measured: shared })).toContain(
      'measured at 200 reports/s, 47 % of that ceiling',
    );
    // At half the ceiling or more it does not.
    const near = planCapacity({ ...input, cores: 1, measured });
    expect(near.thisMachine.maxReportsPerSecond).toBeCloseTo(250, 6);
    expect(formatPlan(near, { ...input, cores: 1, measured })).not.toContain('lower bound');
    // Without bands (measured before they were kept): all busy intervals together.
    const old = Object.fromEntries(Object.entries(measured).filter(([k]) => !k.startsWith('cpu_band:')));
    expect(marginalCpu(old)!.perReport).toBeCloseTo((0.012 * 6_000 + 0.004 * 4_000) / 10_000, 10);
  });
});

describe('the installation’s own CPU', () => {
  it('reads this process’s and the local PostgreSQL’s CPU from /proc, and sees both grow with work', async () => {
    const { pool } = await createTestDatabase();
    {
      const before = await installationCpu(pool);
      // PostgreSQL runs on this machine in the tests (the machine's service or the embedded one).
      expect(before.postgres).not.toBeNull();
      expect(before.process).toBeGreaterThan(0);
      // ~0.3 s of PostgreSQL's CPU, then 0.2 s of ours.
      await pool.query('select count(*) from generate_series(1, 3000000) g where md5(g::text) like $1', [
        '0%',
      ]);
      // Spin until this process has used 0.2 s of CPU (not for 0.2 s of wall time: a busy machine gives less).
      const start = process.cpuUsage();
      let x = 0;
      while (process.cpuUsage(start).user + process.cpuUsage(start).system < 200_000) {
        for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + 1);
      }
      const after = await installationCpu(pool);
      expect(after.postgres! - before.postgres!).toBeGreaterThan(0.1);
      expect(after.process - before.process).toBeGreaterThan(0.1);
    }
  }, 60_000);
});

describe('jarima capacity', () => {
  it('prints the plan as JSON from the installation’s database', async () => {
    const db = await createTestDatabase();
    const p = spawnJarima(['capacity', '--daily', '1000000', '--json'], { DATABASE_URL: db.url });
    expect(await new Promise((r) => p.child.on('exit', r))).toBe(0);
    const plan = JSON.parse(p.output());
    expect(plan.peakPerSecond).toBeCloseTo((1_000_000 * 1.5) / 86_400, 6);
    expect(plan.stages).toHaveLength(4);
    const bad = spawnJarima(['capacity', '--daily', 'many'], { DATABASE_URL: db.url });
    expect(await new Promise((r) => bad.child.on('exit', r))).toBe(2);
  }, 60_000);
});
